import type { EntityManager } from '@mikro-orm/postgresql';
import { isUuid } from '../ids.js';
import { tenantIsolationSql } from '../db/rls.js';
import { outboxRelayRole } from './relay-role.js';
import { currentTraceHeaders, type MessageHeaders } from './trace.js';

/** Headers the outbox adds to every message, so tooling can route and triage without decoding. */
export const EVENT_ID_HEADER = 'hms-event-id';
export const EVENT_TYPE_HEADER = 'hms-event-type';
export const TENANT_ID_HEADER = 'hms-tenant-id';

/** An event to publish once the transaction that wrote it commits. */
export interface OutboxEvent {
  /** UUIDv7, the same id as inside the encoded envelope; consumers store it to apply the event once. */
  eventId: string;
  tenantId: string;
  /** Dotted event name, such as `clinical.patient.registered`. */
  type: string;
  topic: string;
  /**
   * Orders the events of one aggregate within the tenant, usually the aggregate id. The Kafka key is
   * `<tenantId>:<key>`, or the tenant id alone when there is no key, because every Kafka message key
   * starts with the tenant id.
   */
  key?: string;
  /** The encoded EventEnvelope; the outbox and the relay treat it as opaque bytes. */
  payload: Uint8Array;
  /**
   * Extra message headers. `traceparent` and `tracestate` default to the trace of the work in
   * progress; pass them to name another trace, e.g. the one stored in the envelope.
   */
  headers?: MessageHeaders;
}

/**
 * Returns the migration SQL of `<schema>.outbox`, where services write events in the transaction of
 * the change they describe, and the outbox relay reads them to publish.
 *
 * Access: the app role stays under the tenant policy, so it writes and reads its tenant's rows only.
 * The relay role `hms_<schema>_relay` (see provisionRelayRole, which must run before this migration
 * because a policy names the role) reads every tenant's rows, may set `sent_at` and delete, and has
 * no other grant in the schema.
 *
 * The relay's indexes do not start with tenant_id, unlike every other HMS index: the relay reads
 * across tenants in publish order.
 */
export function outboxTableSql(schema: string): string[] {
  const table = `${checkedSchema(schema)}.outbox`;
  const relay = outboxRelayRole(schema);
  return [
    `create table ${table} (
      id bigserial primary key,
      event_id uuid not null unique,
      tenant_id uuid not null,
      type text not null,
      topic text not null,
      message_key text not null,
      headers jsonb not null default '{}'::jsonb,
      payload bytea not null,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    )`,
    // The relay's poll: the oldest unsent rows. Partial, so it stays as small as the backlog.
    `create index outbox_unsent_idx on ${table} (id) where sent_at is null`,
    // Pruning of rows the relay published.
    `create index outbox_sent_at_idx on ${table} (sent_at) where sent_at is not null`,
    ...tenantIsolationSql(table),
    // Policies are permissive: for the relay role these OR with tenant_isolation, which matches no
    // row because the relay sets no tenant. Other roles never match them.
    `create policy outbox_relay_select on ${table} for select to ${relay} using (true)`,
    `create policy outbox_relay_update on ${table} for update to ${relay} using (true) with check (true)`,
    `create policy outbox_relay_delete on ${table} for delete to ${relay} using (true)`,
    `grant select, delete on ${table} to ${relay}`,
    `grant update (sent_at) on ${table} to ${relay}`,
  ];
}

/**
 * Returns the migration SQL of `<schema>.applied_events`: the ids of the events each consumer of the
 * service has applied, written in the transaction of the effect so that an event delivered twice
 * takes effect once.
 *
 * NOTE: rows are never deleted, so the table grows with every event consumed. A row is safe to
 * delete once its event is older than the retention of its topic, because it can no longer be
 * delivered. A sweeper that deletes by applied_at would keep the table bounded.
 */
export function appliedEventsTableSql(schema: string): string[] {
  const table = `${checkedSchema(schema)}.applied_events`;
  return [
    `create table ${table} (
      tenant_id uuid not null,
      consumer text not null,
      event_id uuid not null,
      applied_at timestamptz not null default now(),
      primary key (tenant_id, consumer, event_id)
    )`,
    ...tenantIsolationSql(table),
  ];
}

/**
 * Writes `event` to the outbox of the entity manager's schema, in the transaction `em` belongs to.
 * The event is published only if that transaction commits, and the write does not need Kafka. Run it
 * in the tenant transaction of the change (inTenantTransaction); row-level security rejects an event
 * of another tenant.
 */
export async function enqueue(em: EntityManager, event: OutboxEvent): Promise<void> {
  if (!em.isInTransaction()) {
    throw new Error(
      'enqueue() must run inside the transaction of the change it reports (inTenantTransaction); ' +
        'outside of one, the event would be published even if the change rolled back.',
    );
  }
  if (!isUuid(event.eventId)) throw new Error(`The event id ${JSON.stringify(event.eventId)} is not a UUID.`);
  if (!isUuid(event.tenantId))
    throw new Error(`The tenant id ${JSON.stringify(event.tenantId)} is not a UUID.`);
  if (!event.type) throw new Error(`Event ${event.eventId} has no type.`);
  if (!event.topic) throw new Error(`Event ${event.eventId} (${event.type}) has no topic.`);

  const headers: MessageHeaders = {
    ...currentTraceHeaders(),
    ...event.headers,
    [EVENT_ID_HEADER]: event.eventId,
    [EVENT_TYPE_HEADER]: event.type,
    [TENANT_ID_HEADER]: event.tenantId,
  };
  const schema = checkedSchema(schemaOf(em));
  await em.execute(
    `insert into ${schema}.outbox (event_id, tenant_id, type, topic, message_key, headers, payload)
     values (?, ?, ?, ?, ?, ?, ?)`,
    [
      event.eventId,
      event.tenantId,
      event.type,
      event.topic,
      outboxMessageKey(event.tenantId, event.key),
      JSON.stringify(headers),
      Buffer.from(event.payload.buffer, event.payload.byteOffset, event.payload.byteLength),
    ],
  );
}

/** Returns the Kafka message key of an event: the tenant id, then the ordering key if there is one. */
export function outboxMessageKey(tenantId: string, key?: string): string {
  return key ? `${tenantId}:${key}` : tenantId;
}

/** Returns the schema the entity manager's ORM was opened with (createOrm sets it). */
export function schemaOf(em: EntityManager): string {
  const schema = em.config.get('schema');
  if (!schema) {
    throw new Error(
      'The ORM has no schema configured; open it with createOrm({ schema }) so events know their tables.',
    );
  }
  return schema;
}

/** Returns `schema` after checking it is a plain identifier, because it is written into SQL. */
export function checkedSchema(schema: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(schema)) {
    throw new Error(
      `Invalid schema name ${JSON.stringify(schema)}: use lowercase letters, digits and underscores.`,
    );
  }
  return schema;
}
