import {
  decodeEnvelope,
  dlqTopic,
  IDENTITY_EVENTS_TOPIC,
  TenantCreatedSchema,
  TenantStatus,
  TenantStatusChangedSchema,
  timestampDate,
  UserCreatedSchema,
  UserDeactivatedSchema,
  UserReactivatedSchema,
  UserRolesChangedSchema,
  type EventEnvelope,
} from '@hms/proto-schemas';
import {
  startConsumer,
  startConsumerInBackground,
  type BackgroundConsumer,
  type EntityManager,
  type EventBus,
  type EventConsumer,
  type Logger,
  type MikroORM,
} from '@hms/service-kit';
import { payloadOf } from './payload.js';
import { arrayLiteral } from '../sql.js';

/** Consumer group of scheduling's copy of identity's tenants and users. */
export const IDENTITY_CONSUMER_GROUP = 'hms-scheduling-identity';
/** Name under which the consumer records the event ids it has applied. */
export const IDENTITY_CONSUMER_NAME = 'identity';

const STATUS_NAMES: Partial<Record<TenantStatus, string>> = {
  [TenantStatus.ACTIVE]: 'ACTIVE',
  [TenantStatus.SUSPENDED]: 'SUSPENDED',
  [TenantStatus.OFFBOARDED]: 'OFFBOARDED',
};

function occurredAtOf(envelope: EventEnvelope): Date {
  return envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
}

/** Stores a tenant's status unless a newer status event was applied already. */
async function applyTenantStatus(
  em: EntityManager,
  envelope: EventEnvelope,
  status: TenantStatus,
): Promise<void> {
  const name = STATUS_NAMES[status];
  if (!name) return;
  await em.execute(
    `insert into scheduling.tenant_settings as current (tenant_id, status, status_changed_at)
     values (?, ?, ?)
     on conflict (tenant_id) do update set status = excluded.status, status_changed_at = excluded.status_changed_at
       where current.status_changed_at <= excluded.status_changed_at`,
    [envelope.tenantId, name, occurredAtOf(envelope)],
  );
}

/**
 * Stores the change an event reports for a user: created (active, with roles), deactivated, reactivated or
 * given new roles. An event older than the row's last change is ignored, so a replayed event does
 * not undo a newer one.
 */
async function applyUser(
  em: EntityManager,
  envelope: EventEnvelope,
  userId: string,
  change: { active?: boolean; roles?: string[] },
): Promise<void> {
  await em.execute(
    `insert into scheduling.practitioners as current (tenant_id, id, active, roles, updated_at)
     values (?, ?, ?, ?::text[], ?)
     on conflict (tenant_id, id) do update
       set active = coalesce(?, current.active), roles = coalesce(?::text[], current.roles), updated_at = excluded.updated_at
       where current.updated_at <= excluded.updated_at`,
    [
      envelope.tenantId,
      userId,
      change.active ?? true,
      arrayLiteral(change.roles ?? []),
      occurredAtOf(envelope),
      change.active ?? null,
      change.roles ? arrayLiteral(change.roles) : null,
    ],
  );
}

/**
 * Applies one identity event in the consumer's tenant transaction. The tenant always comes from the
 * envelope; event types scheduling does not keep are ignored.
 */
export async function applyIdentityEvent(em: EntityManager, envelope: EventEnvelope): Promise<void> {
  switch (envelope.type) {
    case 'identity.tenant.created':
      return applyTenantStatus(em, envelope, payloadOf(envelope, TenantCreatedSchema).status);
    case 'identity.tenant.status_changed':
      return applyTenantStatus(em, envelope, payloadOf(envelope, TenantStatusChangedSchema).newStatus);
    case 'identity.user.created': {
      const payload = payloadOf(envelope, UserCreatedSchema);
      return applyUser(em, envelope, payload.userId, { active: true, roles: payload.roles });
    }
    case 'identity.user.deactivated':
      return applyUser(em, envelope, payloadOf(envelope, UserDeactivatedSchema).userId, { active: false });
    case 'identity.user.reactivated':
      return applyUser(em, envelope, payloadOf(envelope, UserReactivatedSchema).userId, { active: true });
    case 'identity.user.roles_changed': {
      const payload = payloadOf(envelope, UserRolesChangedSchema);
      return applyUser(em, envelope, payload.userId, { roles: payload.newRoles });
    }
    default:
      return;
  }
}

export interface ReplicaConsumerOptions {
  bus: EventBus;
  orm: MikroORM;
  logger: Logger;
  /** Tests use their own topic and group, so they never take events meant for others. */
  topic?: string;
  groupId?: string;
  /** Start position of a new consumer group; the beginning of each partition unless false. */
  fromBeginning?: boolean;
}

/** Consumes hms.identity.events.v1 into scheduling's copy of tenant statuses and users. */
export async function startIdentityConsumer(options: ReplicaConsumerOptions): Promise<EventConsumer> {
  const topic = options.topic ?? IDENTITY_EVENTS_TOPIC;
  await options.bus.ensureTopics([topic, dlqTopic(topic)]);
  return startConsumer({
    bus: options.bus,
    groupId: options.groupId ?? IDENTITY_CONSUMER_GROUP,
    topics: [topic],
    orm: options.orm,
    consumerName: IDENTITY_CONSUMER_NAME,
    fromBeginning: options.fromBeginning,
    decode: (bytes) => decodeEnvelope(bytes),
    handle: (envelope, em) => applyIdentityEvent(em, envelope),
    logger: options.logger,
  });
}

/** Starts the identity consumer in the background, retrying until Kafka is reachable. */
export function startIdentitySync(options: ReplicaConsumerOptions): BackgroundConsumer {
  return startConsumerInBackground(() => startIdentityConsumer(options), {
    logger: options.logger,
    name: IDENTITY_CONSUMER_NAME,
    description: 'tenant status and user changes',
  });
}
