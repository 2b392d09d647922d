import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { admit, createWard, newTenant, registerPatient } from '../../encounters/__tests__/support.js';

describe('one patient per bed in the database', () => {
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

  test('overlapping assignment rejected without the code', async () => {
    const tenant = await newTenant(harness);
    const ward = await createWard(harness, tenant, ['1']);
    const encounterId = await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);

    // A second current assignment of the same bed, written past the service, as a faulty job would.
    await assert.rejects(
      admin.query(
        `insert into clinical.bed_assignments (tenant_id, id, encounter_id, patient_id, ward_id, bed_id, started_at)
         select tenant_id, $1, encounter_id, patient_id, ward_id, bed_id, now() - interval '1 day'
           from clinical.bed_assignments where encounter_id = $2`,
        [randomUUID(), encounterId],
      ),
      (error: { code?: string; constraint?: string }) =>
        error.code === '23P01' && error.constraint === 'bed_assignments_one_patient_per_bed',
    );
  });
});
