import {
  decodeEnvelope,
  dlqTopic,
  IDENTITY_EVENTS_TOPIC,
  TenantCreatedSchema,
  TenantStatus,
  TenantStatusChangedSchema,
  timestampDate,
  type EventEnvelope,
} from '@hms/proto-schemas';
import {
  applyUserEvent,
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

/** Consumer group of scheduling's copy of identity's tenants and users. */
export const IDENTITY_CONSUMER_GROUP = 'hms-scheduling-identity';
/** Name under which the consumer records the event ids it has applied. */
export const IDENTITY_CONSUMER_NAME = 'identity';
/** Scheduling's copy of identity's users, kept by the service kit's user replica. */
export const PRACTITIONERS_TABLE = 'scheduling.practitioners';

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
 * Applies one identity event in the consumer's tenant transaction. The tenant always comes from the
 * envelope; event types scheduling does not keep are ignored.
 */
export async function applyIdentityEvent(em: EntityManager, envelope: EventEnvelope): Promise<void> {
  switch (envelope.type) {
    case 'identity.tenant.created':
      return applyTenantStatus(em, envelope, payloadOf(envelope, TenantCreatedSchema).status);
    case 'identity.tenant.status_changed':
      return applyTenantStatus(em, envelope, payloadOf(envelope, TenantStatusChangedSchema).newStatus);
    default:
      // User events go to scheduling's copy of users; any other type is ignored.
      await applyUserEvent(em, PRACTITIONERS_TABLE, envelope);
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
