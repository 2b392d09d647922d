import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { adultInput } from '../../testing/fixtures.js';

const AGE_FIELDS = 'isMinor ageOfMajority age { years months days totalMonths totalDays display }';

interface Registered {
  registerPatient: { isMinor: boolean; age: { years: number; display: string } };
}

describe('patient age in the tenant time zone', () => {
  let harness: ClinicalHarness;
  let admin: pg.Client;

  before(async () => {
    harness = await startHarness();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await harness?.stop();
  });

  /** Creates a tenant whose settings name `timeZone`, and returns a token of it. */
  const tenantIn = async (timeZone: string) => {
    const tenantId = newId();
    await admin.query(
      'insert into clinical.tenant_settings (tenant_id, age_of_majority, time_zone) values ($1, 18, $2)',
      [tenantId, timeZone],
    );
    return harness.token(tenantId);
  };

  // Died at 20:00 UTC on 14 March 2026: already 15 March, the 18th birthday, in Kolkata.
  const input = adultInput({ birthDate: '2008-03-15', deceasedAt: new Date('2026-03-14T20:00:00Z') });

  test('birthday begun in Kolkata counts', async () => {
    const token = await tenantIn('Asia/Kolkata');

    const { body } = await harness.graphql<Registered>(
      `mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { ${AGE_FIELDS} } }`,
      { input },
      token,
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.registerPatient.age.years, 18);
    assert.equal(body.data!.registerPatient.age.display, '18 years');
    assert.equal(body.data!.registerPatient.isMinor, false);
  });

  test('same instant in UTC still a minor', async () => {
    const token = await tenantIn('UTC');

    const { body } = await harness.graphql<Registered>(
      `mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { ${AGE_FIELDS} } }`,
      { input },
      token,
    );

    assert.equal(body.data!.registerPatient.age.years, 17);
    assert.equal(body.data!.registerPatient.isMinor, true);
  });

  test('tenant without settings uses UTC', async () => {
    const { body } = await harness.graphql<Registered>(
      `mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { ${AGE_FIELDS} } }`,
      { input },
      await harness.token(newId()),
    );

    assert.equal(body.data!.registerPatient.age.years, 17);
  });

  test('read back with the same age', async () => {
    const token = await tenantIn('Asia/Kolkata');
    const { body } = await harness.graphql<{ registerPatient: { id: string } }>(
      'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }',
      { input },
      token,
    );

    const { body: read } = await harness.graphql<{
      patient: { age: { years: number; totalMonths: number } };
    }>(
      `query ($id: ID!) { patient(id: $id) { ${AGE_FIELDS} } }`,
      { id: body.data!.registerPatient.id },
      token,
    );

    assert.equal(read.data!.patient.age.years, 18);
    assert.equal(read.data!.patient.age.totalMonths, 216);
  });
});
