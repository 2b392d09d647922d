import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  ADD_PROBLEM,
  amoxicillinInput,
  DOCTOR_PERMISSIONS,
  ISSUE_PRESCRIPTION,
  RECORD_ALLERGY,
  RECORD_VITALS,
  registerPatient,
} from '../../testing/records.js';

/** One create per record type, with the name of its result field. */
const CREATES: [string, string, (patientId: string) => Record<string, unknown>][] = [
  [
    'recordVitalSigns',
    RECORD_VITALS,
    (patientId) => ({
      patientId,
      effectiveAt: '2020-01-01T10:00:00Z',
      heartRate: { value: 70, unit: '/min' },
    }),
  ],
  [
    'recordAllergy',
    RECORD_ALLERGY,
    (patientId) => ({ patientId, category: 'FOOD', substance: { display: 'Milk' } }),
  ],
  ['addProblem', ADD_PROBLEM, (patientId) => ({ patientId, condition: { display: 'Cough' } })],
  [
    'issuePrescription',
    ISSUE_PRESCRIPTION,
    (patientId) => amoxicillinInput(patientId, { status: 'COMPLETED', authoredAt: '2020-01-01T10:00:00Z' }),
  ],
];

describe('source ids of imported records', () => {
  let harness: ClinicalHarness;
  let token: string;
  let patientId: string;

  before(async () => {
    harness = await startHarness();
    token = await harness.token(newId(), DOCTOR_PERMISSIONS);
    patientId = await registerPatient(harness, token);
  });

  after(async () => {
    await harness?.stop();
  });

  for (const [field, mutation, inputOf] of CREATES) {
    test(`${field}: repeated sourceId conflicts`, async () => {
      const sourceId = `synthea:Resource/${newId()}`;
      const first = await harness.graphql<Record<string, { id: string; sourceId: string }>>(
        mutation,
        { input: { ...inputOf(patientId), sourceId } },
        token,
      );
      assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
      const created = first.body.data![field]!;
      assert.equal(created.sourceId, sourceId);

      const { body } = await harness.graphql(mutation, { input: { ...inputOf(patientId), sourceId } }, token);

      assert.deepEqual(errorCodes(body), ['CONFLICT']);
      assert.equal(body.errors?.[0]?.extensions?.existingId, created.id);
    });

    test(`${field}: same sourceId in another tenant`, async () => {
      const sourceId = `synthea:Resource/${newId()}`;
      const otherToken = await harness.token(newId(), DOCTOR_PERMISSIONS);
      const otherPatient = await registerPatient(harness, otherToken);
      await harness.graphql(mutation, { input: { ...inputOf(patientId), sourceId } }, token);

      const { body } = await harness.graphql(
        mutation,
        { input: { ...inputOf(otherPatient), sourceId } },
        otherToken,
      );

      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    });

    test(`${field}: overlong sourceId rejected`, async () => {
      const { body } = await harness.graphql(
        mutation,
        { input: { ...inputOf(patientId), sourceId: 'x'.repeat(256) } },
        token,
      );

      assert.deepEqual(invalidFields(body), ['input.sourceId']);
    });
  }

  test('one sourceId across record types', async () => {
    const sourceId = `synthea:Resource/${newId()}`;
    for (const [field, mutation, inputOf] of CREATES) {
      const { body } = await harness.graphql(mutation, { input: { ...inputOf(patientId), sourceId } }, token);
      assert.equal(body.errors, undefined, field);
    }
  });
});
