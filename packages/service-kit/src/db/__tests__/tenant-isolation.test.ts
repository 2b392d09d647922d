import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineEntity, p } from '@mikro-orm/postgresql';
import { Migration } from '@mikro-orm/migrations';
import pg from 'pg';
import { provisionTestDatabase, type ServiceTestDatabase } from '@hms/test-kit/database';
import { createOrm, inTenantTransaction, migrate, type MikroORM } from '../orm.js';
import { tenantFilters } from '../tenant-filter.js';
import { tenantIsolationSql } from '../rls.js';
import { newId } from '../../ids.js';

const ProbeNote = defineEntity({
  name: 'ProbeNote',
  tableName: 'probe_notes',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    body: p.string(),
  },
  filters: tenantFilters,
});

class CreateProbeNotes extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table kit_probe.probe_notes (id uuid primary key, tenant_id uuid not null, body text not null)',
    );
    for (const statement of tenantIsolationSql('kit_probe.probe_notes')) this.addSql(statement);
  }
}

describe('tenant isolation in the database', () => {
  let database: ServiceTestDatabase;
  let app: MikroORM;
  const tenantA = newId();
  const tenantB = newId();

  before(async () => {
    database = await provisionTestDatabase('kit_probe');
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query('drop table if exists kit_probe.probe_notes');
    await admin.query('drop table if exists kit_probe.mikro_orm_migrations');
    await admin.end();

    const owner = await createOrm({
      clientUrl: database.ownerUrl,
      schema: 'kit_probe',
      entities: [ProbeNote],
      migrations: [CreateProbeNotes],
    });
    await migrate(owner);
    await owner.close();

    app = await createOrm({ clientUrl: database.appUrl, schema: 'kit_probe', entities: [ProbeNote] });
    await inTenantTransaction(app, tenantA, async (em) => {
      em.create(ProbeNote, { id: newId(), tenantId: tenantA, body: 'note of A' });
    });
    await inTenantTransaction(app, tenantB, async (em) => {
      em.create(ProbeNote, { id: newId(), tenantId: tenantB, body: 'note of B' });
    });
  });

  after(async () => {
    await app?.close();
  });

  test('ORM query sees own tenant only', async () => {
    const notes = await inTenantTransaction(app, tenantA, (em) => em.find(ProbeNote, {}));
    assert.equal(notes.length, 1);
    assert.equal(notes[0]?.body, 'note of A');
  });

  test('raw SQL sees own tenant only', async () => {
    const rows = await inTenantTransaction(app, tenantB, (em) =>
      em.execute<{ body: string }[]>('select body from kit_probe.probe_notes'),
    );
    assert.deepEqual(
      rows.map((row) => row.body),
      ['note of B'],
    );
  });

  test('filter disabled still stops at RLS', async () => {
    const notes = await inTenantTransaction(app, tenantA, (em) => em.find(ProbeNote, {}, { filters: false }));
    assert.deepEqual(
      notes.map((note) => note.body),
      ['note of A'],
    );
  });

  test('connection without tenant sees nothing', async () => {
    const client = new pg.Client({ connectionString: database.appUrl });
    await client.connect();
    try {
      const result = await client.query('select count(*)::int as count from kit_probe.probe_notes');
      assert.equal(result.rows[0].count, 0);
    } finally {
      await client.end();
    }
  });

  test('writing another tenant row rejected', async () => {
    await assert.rejects(
      inTenantTransaction(app, tenantA, async (em) => {
        em.create(ProbeNote, { id: newId(), tenantId: tenantB, body: 'smuggled' });
      }),
      /row-level security/,
    );
  });

  test('query without tenant filter params fails', async () => {
    const em = app.em.fork();
    await assert.rejects(em.find(ProbeNote, {}));
  });

  test('app role cannot change schema', async () => {
    const client = new pg.Client({ connectionString: database.appUrl });
    await client.connect();
    try {
      await assert.rejects(
        client.query('alter table kit_probe.probe_notes add column extra text'),
        /must be owner/,
      );
      await assert.rejects(
        client.query('alter table kit_probe.probe_notes disable row level security'),
        /must be owner/,
      );
    } finally {
      await client.end();
    }
  });
});
