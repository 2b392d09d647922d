import {
  decodeEnvelope,
  dlqTopic,
  IDENTITY_EVENTS_TOPIC,
  timestampDate,
  unpackPayloadAs,
  UserCreatedSchema,
  UserDeactivatedSchema,
  UserReactivatedSchema,
  UserRolesChangedSchema,
  type EventEnvelope,
} from '@hms/proto-schemas';
import type { Logger } from 'pino';
import type { EntityManager, MikroORM } from '../db/orm.js';
import { tenantIsolationSql } from '../db/rls.js';
import type { EventBus } from './bus.js';
import { startConsumerInBackground, type BackgroundConsumer } from './background.js';
import { startConsumer, type EventConsumer } from './consumer.js';
import { checkedSchema } from './outbox.js';

/** Returns `<schema>.<table>` after checking both are plain identifiers, so they can go into SQL. */
export function checkedReplicaTable(qualifiedTable: string): string {
  const [schema, table, ...rest] = qualifiedTable.split('.');
  if (!schema || !table || rest.length > 0 || !/^[a-z][a-z0-9_]*$/.test(table)) {
    throw new Error(`Invalid table name ${JSON.stringify(qualifiedTable)}; expected <schema>.<table>.`);
  }
  return `${checkedSchema(schema)}.${table}`;
}

/**
 * Returns the SQL that creates a service's copy of identity's users: one row per user of a tenant,
 * with whether the user is active, the role names and the time of the event the row was last
 * changed by. The table is tenant-owned and under row-level security.
 */
export function userReplicaTableSql(qualifiedTable: string): string[] {
  const table = checkedReplicaTable(qualifiedTable);
  const name = table.slice(table.indexOf('.') + 1);
  return [
    `create table ${table} (
        tenant_id uuid not null,
        id uuid not null,
        active boolean not null,
        roles text[] not null default '{}',
        updated_at timestamptz not null,
        constraint ${name}_pkey primary key (tenant_id, id)
      )`,
    ...tenantIsolationSql(table),
  ];
}

/** Formats role names as a PostgreSQL text array literal, quoting each element. */
function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

function payloadOf<Desc extends Parameters<typeof unpackPayloadAs>[1]>(
  envelope: EventEnvelope,
  schema: Desc,
) {
  const payload = unpackPayloadAs(envelope, schema);
  // The consumer retries and then dead-letters such an event instead of applying a half-read change.
  if (!payload)
    throw new Error(`Event ${envelope.eventId} (${envelope.type}) has no ${schema.typeName} payload.`);
  return payload;
}

/**
 * Stores the change an event reports for a user in the envelope's tenant. An event older than the
 * row's last change is ignored, so a replayed event does not undo a newer one.
 */
async function upsertUser(
  em: EntityManager,
  table: string,
  envelope: EventEnvelope,
  userId: string,
  change: { active?: boolean; roles?: string[] },
): Promise<void> {
  const occurredAt = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
  await em.execute(
    `insert into ${table} as current (tenant_id, id, active, roles, updated_at)
     values (?, ?, ?, ?::text[], ?)
     on conflict (tenant_id, id) do update
       set active = coalesce(?, current.active), roles = coalesce(?::text[], current.roles), updated_at = excluded.updated_at
       where current.updated_at <= excluded.updated_at`,
    [
      envelope.tenantId,
      userId,
      change.active ?? true,
      textArrayLiteral(change.roles ?? []),
      occurredAt,
      change.active ?? null,
      change.roles ? textArrayLiteral(change.roles) : null,
    ],
  );
}

/**
 * Applies one of identity's user events (created, deactivated, reactivated, roles changed) to the
 * replica table in the consumer's tenant transaction, and returns whether the event was a user event.
 * The tenant always comes from the envelope.
 */
export async function applyUserEvent(
  em: EntityManager,
  qualifiedTable: string,
  envelope: EventEnvelope,
): Promise<boolean> {
  const table = checkedReplicaTable(qualifiedTable);
  switch (envelope.type) {
    case 'identity.user.created': {
      const payload = payloadOf(envelope, UserCreatedSchema);
      await upsertUser(em, table, envelope, payload.userId, { active: true, roles: payload.roles });
      return true;
    }
    case 'identity.user.deactivated':
      await upsertUser(em, table, envelope, payloadOf(envelope, UserDeactivatedSchema).userId, {
        active: false,
      });
      return true;
    case 'identity.user.reactivated':
      await upsertUser(em, table, envelope, payloadOf(envelope, UserReactivatedSchema).userId, {
        active: true,
      });
      return true;
    case 'identity.user.roles_changed': {
      const payload = payloadOf(envelope, UserRolesChangedSchema);
      await upsertUser(em, table, envelope, payload.userId, { roles: payload.newRoles });
      return true;
    }
    default:
      return false;
  }
}

/**
 * Returns the ids among `ids` that are active users in the replica, within the transaction's tenant
 * (row-level security hides every other tenant's users, so they read as missing).
 */
export async function activeUserIds(
  em: EntityManager,
  qualifiedTable: string,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await em.execute<{ id: string }[]>(
    `select id from ${checkedReplicaTable(qualifiedTable)} where active and id = any(?::uuid[])`,
    [textArrayLiteral([...new Set(ids)])],
  );
  return new Set(rows.map((row) => row.id));
}

export interface UserReplicaConsumerOptions {
  bus: EventBus;
  orm: MikroORM;
  logger: Logger;
  /** The replica table as `<schema>.<table>`, created with userReplicaTableSql. */
  table: string;
  /** Consumer group on hms.identity.events.v1, such as `hms-clinical-users`. */
  groupId: string;
  /** Name under which the consumer records the event ids it has applied. */
  consumerName: string;
  /** Tests use their own topic, so they never take events meant for others. */
  topic?: string;
  /** Start position of a new consumer group; the beginning of each partition unless false. */
  fromBeginning?: boolean;
}

/**
 * Consumes hms.identity.events.v1 into a user replica table. Each event is applied once: the kit's
 * consumer records its id in the same transaction as the change. Other event types are recorded as
 * applied and otherwise ignored.
 */
export async function startUserReplicaConsumer(options: UserReplicaConsumerOptions): Promise<EventConsumer> {
  const topic = options.topic ?? IDENTITY_EVENTS_TOPIC;
  const table = checkedReplicaTable(options.table);
  await options.bus.ensureTopics([topic, dlqTopic(topic)]);
  return startConsumer({
    bus: options.bus,
    groupId: options.groupId,
    topics: [topic],
    orm: options.orm,
    consumerName: options.consumerName,
    fromBeginning: options.fromBeginning,
    decode: (bytes) => decodeEnvelope(bytes),
    handle: async (envelope, em) => {
      await applyUserEvent(em, table, envelope);
    },
    logger: options.logger,
  });
}

/** Starts the user replica consumer in the background, retrying until Kafka is reachable. */
export function startUserReplicaSync(options: UserReplicaConsumerOptions): BackgroundConsumer {
  return startConsumerInBackground(() => startUserReplicaConsumer(options), {
    logger: options.logger,
    name: options.consumerName,
    description: 'user changes',
  });
}
