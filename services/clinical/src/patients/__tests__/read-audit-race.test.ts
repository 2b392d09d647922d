import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createOrm, inTenantTransaction, newId, type MikroORM, type SubgraphContext } from '@hms/service-kit';
import type { ServiceTestDatabase } from '@hms/test-kit';
import { entities } from '../../entities/index.js';
import { migrateTestDatabase } from '../../testing/harness.js';
import { auditPatientReads } from '../events.js';

// Regression: auditPatientReads marked patients as read only after awaiting the tenant's read-audit
// setting, so two resolvers of one request reading the same patient at once (a record field and the
// patient itself) each wrote a READ record.
describe('auditPatientReads called concurrently', () => {
  let database: ServiceTestDatabase;
  let orm: MikroORM;
  let admin: pg.Client;

  before(async () => {
    database = await migrateTestDatabase();
    orm = await createOrm({ clientUrl: database.appUrl, schema: 'clinical', entities });
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await orm?.close();
  });

  test('one READ record per patient', async () => {
    const tenantId = newId();
    const patientId = newId();
    const context = { memo: new Map(), requestId: newId() } as SubgraphContext;

    await inTenantTransaction(orm, tenantId, (em) =>
      Promise.all([
        auditPatientReads(em, context, tenantId, [patientId]),
        auditPatientReads(em, context, tenantId, [patientId]),
      ]),
    );

    const { rows } = await admin.query(
      'select count(*)::int as count from clinical.outbox where tenant_id = $1',
      [tenantId],
    );
    assert.equal(rows[0].count, 1);
  });
});
