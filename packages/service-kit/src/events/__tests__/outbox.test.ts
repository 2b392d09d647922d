import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { runWithContext } from '../../context.js';
import { inTenantTransaction, type MikroORM } from '../../db/orm.js';
import { newId } from '../../ids.js';
import { enqueue, EVENT_ID_HEADER, type OutboxEvent } from '../outbox.js';
import {
  adminQuery,
  encodeTestEvent,
  openAppOrm,
  prepareProbeDatabase,
  PROBE_SCHEMA,
  ProbeChange,
  uniqueTopic,
  type ProbeDatabase,
} from './support.js';

function probeEvent(tenantId: string, overrides: Partial<OutboxEvent> = {}): OutboxEvent {
  const eventId = newId();
  return {
    eventId,
    tenantId,
    type: 'probe.changed',
    topic: uniqueTopic('outbox'),
    key: newId(),
    payload: encodeTestEvent({ eventId, tenantId, type: 'probe.changed', body: 'x' }),
    ...overrides,
  };
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

describe('outbox', { timeout: 60_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;
  const tenantA = newId();
  const tenantB = newId();

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
  });

  after(async () => {
    await app?.close();
  });

  test('event is stored in the transaction of the change', async () => {
    const changeId = newId();
    const event = probeEvent(tenantA, { key: changeId });

    await inTenantTransaction(app, tenantA, async (em) => {
      em.create(ProbeChange, { id: changeId, tenantId: tenantA, body: 'admitted' });
      await enqueue(em, event);
    });

    const rows = await adminQuery<{
      tenant_id: string;
      type: string;
      topic: string;
      message_key: string;
      headers: Record<string, string>;
      payload: Buffer;
      sent_at: Date | null;
    }>(database, `select * from ${PROBE_SCHEMA}.outbox where event_id = $1`, [event.eventId]);
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.tenant_id, tenantA);
    assert.equal(row.type, 'probe.changed');
    assert.equal(row.topic, event.topic);
    assert.equal(row.message_key, `${tenantA}:${changeId}`);
    assert.equal(row.headers[EVENT_ID_HEADER], event.eventId);
    assert.deepEqual(row.payload, Buffer.from(event.payload));
    assert.equal(row.sent_at, null);
    const changes = await adminQuery(database, `select 1 from ${PROBE_SCHEMA}.probe_changes where id = $1`, [
      changeId,
    ]);
    assert.equal(changes.length, 1);
  });

  test('rolled-back transaction leaves neither change nor event', async () => {
    const changeId = newId();
    const event = probeEvent(tenantA, { key: changeId });

    await assert.rejects(
      inTenantTransaction(app, tenantA, async (em) => {
        em.create(ProbeChange, { id: changeId, tenantId: tenantA, body: 'admitted' });
        await enqueue(em, event);
        await em.flush();
        throw new Error('validation failed after the write');
      }),
      /validation failed/,
    );

    const events = await adminQuery(database, `select 1 from ${PROBE_SCHEMA}.outbox where event_id = $1`, [
      event.eventId,
    ]);
    const changes = await adminQuery(database, `select 1 from ${PROBE_SCHEMA}.probe_changes where id = $1`, [
      changeId,
    ]);
    assert.equal(events.length, 0);
    assert.equal(changes.length, 0);
  });

  test('enqueue outside a transaction is rejected', async () => {
    const em = app.em.fork();
    await assert.rejects(enqueue(em, probeEvent(tenantA)), /inside the transaction/);
  });

  test('event of another tenant is rejected by row-level security', async () => {
    await assert.rejects(
      inTenantTransaction(app, tenantA, (em) => enqueue(em, probeEvent(tenantB))),
      /row-level security/,
    );
  });

  test('message key without an ordering key is the tenant id', async () => {
    const event = probeEvent(tenantA, { key: undefined });
    await inTenantTransaction(app, tenantA, (em) => enqueue(em, event));
    const rows = await adminQuery<{ message_key: string }>(
      database,
      `select message_key from ${PROBE_SCHEMA}.outbox where event_id = $1`,
      [event.eventId],
    );
    assert.equal(rows[0]?.message_key, tenantA);
  });

  test('trace id of the request context is stored as traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const event = probeEvent(tenantA);
    await runWithContext({ requestId: newId(), tenantId: tenantA, traceId }, () =>
      inTenantTransaction(app, tenantA, (em) => enqueue(em, event)),
    );
    const rows = await adminQuery<{ headers: Record<string, string> }>(
      database,
      `select headers from ${PROBE_SCHEMA}.outbox where event_id = $1`,
      [event.eventId],
    );
    assert.match(rows[0]?.headers.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  test('app role reads only its tenant outbox rows', async () => {
    const ofA = probeEvent(tenantA);
    const ofB = probeEvent(tenantB);
    await inTenantTransaction(app, tenantA, (em) => enqueue(em, ofA));
    await inTenantTransaction(app, tenantB, (em) => enqueue(em, ofB));

    const seenByA = await inTenantTransaction(app, tenantA, (em) =>
      em.execute<{ event_id: string }[]>(
        `select event_id from ${PROBE_SCHEMA}.outbox where event_id in (?, ?)`,
        [ofA.eventId, ofB.eventId],
      ),
    );
    assert.deepEqual(
      seenByA.map((row) => row.event_id),
      [ofA.eventId],
    );

    const withoutTenant = await connect(database.appUrl);
    try {
      const result = await withoutTenant.query(`select count(*)::int as count from ${PROBE_SCHEMA}.outbox`);
      assert.equal(result.rows[0].count, 0);
    } finally {
      await withoutTenant.end();
    }
  });

  test('relay role reads every tenant outbox row and no other table', async () => {
    const ofA = probeEvent(tenantA);
    const ofB = probeEvent(tenantB);
    await inTenantTransaction(app, tenantA, async (em) => {
      em.create(ProbeChange, { id: newId(), tenantId: tenantA, body: 'secret of A' });
      await enqueue(em, ofA);
    });
    await inTenantTransaction(app, tenantB, (em) => enqueue(em, ofB));

    const relay = await connect(database.relayUrl);
    try {
      const seen = await relay.query(
        `select event_id from ${PROBE_SCHEMA}.outbox where event_id = any($1) order by id`,
        [[ofA.eventId, ofB.eventId]],
      );
      assert.deepEqual(
        seen.rows.map((row: { event_id: string }) => row.event_id),
        [ofA.eventId, ofB.eventId],
      );

      // It may mark and delete (inside a transaction rolled back, to leave the rows for others) …
      await relay.query('begin');
      const marked = await relay.query(
        `update ${PROBE_SCHEMA}.outbox set sent_at = now() where event_id = $1`,
        [ofA.eventId],
      );
      assert.equal(marked.rowCount, 1);
      const deleted = await relay.query(`delete from ${PROBE_SCHEMA}.outbox where event_id = $1`, [
        ofB.eventId,
      ]);
      assert.equal(deleted.rowCount, 1);
      await relay.query('rollback');

      // … but not rewrite an event, add one, or read anything else.
      await assert.rejects(
        relay.query(`update ${PROBE_SCHEMA}.outbox set topic = 'elsewhere' where event_id = $1`, [
          ofA.eventId,
        ]),
        /permission denied/,
      );
      await assert.rejects(
        relay.query(
          `insert into ${PROBE_SCHEMA}.outbox (event_id, tenant_id, type, topic, message_key, payload) values ($1, $2, 't', 't', 'k', '\\x00')`,
          [newId(), tenantA],
        ),
        /permission denied/,
      );
      for (const table of ['probe_changes', 'applied_events', 'probe_effects', 'mikro_orm_migrations']) {
        await assert.rejects(
          relay.query(`select * from ${PROBE_SCHEMA}.${table}`),
          /permission denied/,
          table,
        );
      }
      await assert.rejects(
        relay.query(`create table ${PROBE_SCHEMA}.smuggled (id int)`),
        /permission denied/,
      );
    } finally {
      await relay.end();
    }
  });
});
