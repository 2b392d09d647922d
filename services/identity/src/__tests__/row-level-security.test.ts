import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inTenantTransaction } from '@hms/service-kit';
import { queryAsAppRoleWithoutTenant, startTestIdentity, type TestIdentity } from '../testing/harness.js';

const TENANT_TABLES = ['users', 'password_history', 'roles', 'user_roles', 'sessions', 'refresh_tokens'];

describe('row-level security of identity tables', () => {
  let t: TestIdentity;

  before(async () => {
    t = await startTestIdentity();
  });

  after(async () => {
    await t?.stop();
  });

  test('app role without tenant sees no users', async () => {
    const tenant = await t.createTenant();
    await t.login({ tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword });

    for (const table of TENANT_TABLES) {
      const rows = await queryAsAppRoleWithoutTenant<{ count: number }>(
        t.database,
        `select count(*)::int as count from identity.${table}`,
      );
      assert.equal(rows[0]?.count, 0, `identity.${table} is visible without a tenant`);
    }
  });

  test('raw SQL sees only its tenant', async () => {
    const tenantA = await t.createTenant();
    const tenantB = await t.createTenant();

    const ids = await inTenantTransaction(t.identity.services.deps.orm, tenantA.id, (em) =>
      em.execute<{ id: string }[]>('select id from identity.users'),
    );

    assert.deepEqual(
      ids.map((row) => row.id),
      [tenantA.adminUserId],
    );
    assert.ok(!ids.some((row) => row.id === tenantB.adminUserId));
  });

  test('tenant tables force row-level security', async () => {
    const rows = await queryAsAppRoleWithoutTenant<{
      relname: string;
      relrowsecurity: boolean;
      relforcerowsecurity: boolean;
    }>(
      t.database,
      `select relname, relrowsecurity, relforcerowsecurity from pg_class
        where relnamespace = 'identity'::regnamespace and relkind = 'r' and relname = any(array['${TENANT_TABLES.join("','")}'])`,
    );

    assert.equal(rows.length, TENANT_TABLES.length);
    for (const row of rows) {
      assert.equal(row.relrowsecurity, true, row.relname);
      assert.equal(row.relforcerowsecurity, true, row.relname);
    }
  });

  test('app role cannot change the schema', async () => {
    await assert.rejects(
      queryAsAppRoleWithoutTenant(t.database, 'alter table identity.users disable row level security'),
      /must be owner/,
    );
  });
});
