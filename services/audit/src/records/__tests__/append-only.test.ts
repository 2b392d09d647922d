import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId, type MikroORM } from '@hms/service-kit';
import type { ServiceTestDatabase } from '@hms/test-kit';
import { appendAuditRecords } from '../append.js';
import { verifyChain } from '../verify.js';
import { migrateTestDatabase, openAppOrm } from '../../testing/database.js';
import { auditRecords } from '../../testing/records.js';

/** Runs `sql` on `url` inside a transaction of `tenantId`, then rolls back; returns the error, if any. */
async function attempt(
  url: string,
  tenantId: string | undefined,
  sql: string,
): Promise<pg.DatabaseError | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    if (tenantId) await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    await client.query(sql);
    return undefined;
  } catch (error) {
    return error as pg.DatabaseError;
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
  }
}

describe('append-only storage', () => {
  let database: ServiceTestDatabase;
  let orm: MikroORM;
  const tenantId = newId();

  before(async () => {
    database = await migrateTestDatabase();
    orm = await openAppOrm(database);
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 3));
  });

  after(async () => {
    await orm?.close();
  });

  for (const statement of [
    "update audit.audit_records set action = 'patient.list'",
    'delete from audit.audit_records',
    'truncate audit.audit_records',
  ]) {
    test(`app role denied: ${statement.split(' ')[0]}`, async () => {
      const error = await attempt(database.appUrl, tenantId, statement);

      assert.equal(error?.code, '42501');
      assert.match(error?.message ?? '', /permission denied for table audit_records/);
    });
  }

  test('app role cannot delete chain head', async () => {
    const error = await attempt(database.appUrl, tenantId, 'delete from audit.chain_heads');

    assert.equal(error?.code, '42501');
  });

  test('app role cannot delete incidents', async () => {
    const error = await attempt(database.appUrl, tenantId, 'delete from audit.security_incidents');

    assert.equal(error?.code, '42501');
  });

  for (const statement of [
    "update audit.audit_records set action = 'patient.list'",
    'delete from audit.audit_records',
    'truncate audit.audit_records',
  ]) {
    test(`trigger stops owner: ${statement.split(' ')[0]}`, async () => {
      const error = await attempt(database.ownerUrl, tenantId, statement);

      assert.equal(error?.code, '42501');
      assert.match(error?.message ?? '', /audit records are append-only/);
    });
  }

  test('chain intact after attempts', async () => {
    const result = await verifyChain(orm, tenantId);

    assert.equal(result.intact, true);
    assert.equal(result.records, 3n);
  });

  test('no tenant set sees nothing', async () => {
    const client = new pg.Client({ connectionString: database.appUrl });
    await client.connect();
    try {
      for (const table of ['audit_records', 'chain_heads', 'security_incidents']) {
        const result = await client.query(`select count(*)::int as count from audit.${table}`);
        assert.equal(result.rows[0].count, 0, table);
      }
    } finally {
      await client.end();
    }
  });

  test('other tenant sees nothing', async () => {
    const client = new pg.Client({ connectionString: database.appUrl });
    await client.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [newId()]);
      const records = await client.query(
        'select count(*)::int as count from audit.audit_records where tenant_id = $1',
        [tenantId],
      );
      const heads = await client.query(
        'select count(*)::int as count from audit.chain_heads where tenant_id = $1',
        [tenantId],
      );
      await client.query('rollback');

      assert.equal(records.rows[0].count, 0);
      assert.equal(heads.rows[0].count, 0);
    } finally {
      await client.end();
    }
  });

  test('insert for other tenant rejected', async () => {
    const error = await attempt(
      database.appUrl,
      newId(),
      `insert into audit.chain_heads (tenant_id, seq, hash, updated_at)
       values ('${tenantId}', 0, decode(repeat('00', 32), 'hex'), now())`,
    );

    assert.equal(error?.code, '42501');
    assert.match(error?.message ?? '', /row-level security/);
  });
});
