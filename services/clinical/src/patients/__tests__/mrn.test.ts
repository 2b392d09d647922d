import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { adultInput, REGISTER_PATIENT } from '../../testing/fixtures.js';

describe('MRN assignment', () => {
  let harness: ClinicalHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  test('concurrent registrations get consecutive MRNs', async () => {
    const token = await harness.token(newId());

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        harness.graphql<{ registerPatient: { mrn: string } }>(
          REGISTER_PATIENT,
          { input: adultInput({ name: { given: ['Patient'], family: `Number ${index}` } }) },
          token,
        ),
      ),
    );

    assert.deepEqual(
      responses.flatMap((response) => response.body.errors ?? []),
      [],
    );
    const mrns = responses.map((response) => response.body.data!.registerPatient.mrn).sort();
    const expected = Array.from({ length: 20 }, (_, index) => `MRN-${String(index + 1).padStart(6, '0')}`);
    assert.deepEqual(mrns, expected);
  });

  test('tenants count independently', async () => {
    const tokenA = await harness.token(newId());
    const tokenB = await harness.token(newId());

    const first = await harness.graphql<{ registerPatient: { mrn: string } }>(
      REGISTER_PATIENT,
      { input: adultInput() },
      tokenA,
    );
    const second = await harness.graphql<{ registerPatient: { mrn: string } }>(
      REGISTER_PATIENT,
      { input: adultInput() },
      tokenB,
    );

    assert.equal(first.body.data?.registerPatient.mrn, 'MRN-000001');
    assert.equal(second.body.data?.registerPatient.mrn, 'MRN-000001');
  });
});
