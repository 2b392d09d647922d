// Shared setup of the event tests. The probe schema has an outbox, applied_events and two tables for
// the changes and effects the tests write. Kafka topics get random names. A JSON stand-in replaces the
// event envelope, because the outbox, relay and consumer treat payloads as opaque bytes.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { defineEntity, p } from '@mikro-orm/postgresql';
import { Migration } from '@mikro-orm/migrations';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import {
  provisionTestDatabase,
  testAdminUrl,
  testDatabaseName,
  type ServiceTestDatabase,
} from '@hms/test-kit/database';
import { createOrm, migrate, type EntityManager, type MikroORM } from '../../db/orm.js';
import { tenantIsolationSql } from '../../db/rls.js';
import { tenantFilters } from '../../db/tenant-filter.js';
import type { EventBus, IncomingMessage, Subscription } from '../bus.js';
import { appliedEventsTableSql, outboxTableSql } from '../outbox.js';
import { outboxRelayRole, provisionRelayRole } from '../relay-role.js';

export const PROBE_SCHEMA = 'kit_events_probe';

/** Brokers of the shared local Kafka (infra/kafka/start). */
export const kafkaBrokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092')
  .split(',')
  .map((broker) => broker.trim());

/** A change a service makes together with its event. */
export const ProbeChange = defineEntity({
  name: 'ProbeChange',
  tableName: 'probe_changes',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    body: p.string(),
  },
  filters: tenantFilters,
});

class CreateProbeEventTables extends Migration {
  override async up(): Promise<void> {
    for (const statement of outboxTableSql(PROBE_SCHEMA)) this.addSql(statement);
    for (const statement of appliedEventsTableSql(PROBE_SCHEMA)) this.addSql(statement);
    this.addSql(
      `create table ${PROBE_SCHEMA}.probe_changes (id uuid primary key, tenant_id uuid not null, body text not null)`,
    );
    for (const statement of tenantIsolationSql(`${PROBE_SCHEMA}.probe_changes`)) this.addSql(statement);
    // No unique key on event_id on purpose: an event applied twice must show up as two rows.
    this.addSql(
      `create table ${PROBE_SCHEMA}.probe_effects (id bigserial primary key, tenant_id uuid not null, event_id uuid not null, body text not null)`,
    );
    for (const statement of tenantIsolationSql(`${PROBE_SCHEMA}.probe_effects`)) this.addSql(statement);
  }
}

export interface ProbeDatabase extends ServiceTestDatabase {
  /** URL of the outbox relay role. */
  relayUrl: string;
}

/**
 * Provisions the probe schema with its app, owner and relay roles and recreates its tables, so every
 * test file starts from the current table definitions.
 */
export async function prepareProbeDatabase(): Promise<ProbeDatabase> {
  const database = await provisionTestDatabase(PROBE_SCHEMA);
  await provisionRelayRole({ adminUrl: testAdminUrl, database: testDatabaseName, service: PROBE_SCHEMA });

  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();
  try {
    for (const table of [
      'outbox',
      'applied_events',
      'probe_changes',
      'probe_effects',
      'mikro_orm_migrations',
    ]) {
      await admin.query(`drop table if exists ${PROBE_SCHEMA}.${table}`);
    }
  } finally {
    await admin.end();
  }

  const owner = await createOrm({
    clientUrl: database.ownerUrl,
    schema: PROBE_SCHEMA,
    entities: [ProbeChange],
    migrations: [CreateProbeEventTables],
  });
  try {
    await migrate(owner);
  } finally {
    await owner.close();
  }

  const relayUrl = new URL(database.appUrl);
  relayUrl.username = outboxRelayRole(PROBE_SCHEMA);
  return { ...database, relayUrl: relayUrl.toString() };
}

/** Opens the ORM of the probe schema as the app role. */
export function openAppOrm(database: ProbeDatabase): Promise<MikroORM> {
  return createOrm({ clientUrl: database.appUrl, schema: PROBE_SCHEMA, entities: [ProbeChange], poolMax: 4 });
}

/** Runs one query as the superuser, for assertions that must see every tenant's rows. */
export async function adminQuery<T extends pg.QueryResultRow>(
  database: ProbeDatabase,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.adminUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Returns a topic name no other test run uses, so a product run on the same broker never reads these messages. */
export function uniqueTopic(purpose: string): string {
  return `hms.kit-test.${purpose}.${randomUUID()}`;
}

export function uniqueGroupId(purpose: string): string {
  return `hms-kit-test-${purpose}-${randomUUID()}`;
}

/** The JSON stand-in for an encoded EventEnvelope. */
export interface TestEvent {
  eventId: string;
  tenantId: string;
  type: string;
  body: string;
}

export function encodeTestEvent(event: TestEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

export function decodeTestEvent(bytes: Buffer): TestEvent {
  return JSON.parse(bytes.toString('utf8')) as TestEvent;
}

/** Writes the effect of the probe handlers: one row per application of an event. */
export async function recordEffect(em: EntityManager, event: TestEvent): Promise<void> {
  await em.execute(`insert into ${PROBE_SCHEMA}.probe_effects (tenant_id, event_id, body) values (?, ?, ?)`, [
    event.tenantId,
    event.eventId,
    event.body,
  ]);
}

/** Creates a logger whose lines the test can read; set HMS_TEST_LOG=1 to also print them. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env.HMS_TEST_LOG) process.stderr.write(`${line}\n`);
      }
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Consumes `topic` with a fresh group and collects every message, for counting what arrived. */
export async function collectMessages(
  bus: EventBus,
  topic: string,
): Promise<{ messages: IncomingMessage[]; subscription: Subscription }> {
  const messages: IncomingMessage[] = [];
  const subscription = await bus.subscribe({
    groupId: uniqueGroupId('collect'),
    topics: [topic],
    eachMessage: async (message) => {
      messages.push(message);
    },
  });
  return { messages, subscription };
}
