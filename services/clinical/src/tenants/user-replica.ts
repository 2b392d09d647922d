import {
  activeUserIds,
  HmsError,
  startUserReplicaConsumer as startKitConsumer,
  startUserReplicaSync as startKitSync,
  type BackgroundConsumer,
  type EntityManager,
  type EventBus,
  type EventConsumer,
  type Logger,
  type MikroORM,
  type UserReplicaConsumerOptions as KitOptions,
} from '@hms/service-kit';

/** Clinical's copy of identity's users, kept from identity's user events. */
export const USERS_TABLE = 'clinical.users';
/** Consumer group of clinical's user replica on hms.identity.events.v1. */
export const USER_REPLICA_CONSUMER_GROUP = 'hms-clinical-users';
/** Name under which the consumer records the event ids it has applied. */
export const USER_REPLICA_CONSUMER_NAME = 'users';

export interface UserReplicaOptions {
  bus: EventBus;
  orm: MikroORM;
  logger: Logger;
  /** Tests use their own topic and group, so they never take events meant for others. */
  topic?: string;
  groupId?: string;
  /** Start position of a new consumer group; the beginning of each partition unless false. */
  fromBeginning?: boolean;
}

function kitOptions(options: UserReplicaOptions): KitOptions {
  return {
    ...options,
    table: USERS_TABLE,
    groupId: options.groupId ?? USER_REPLICA_CONSUMER_GROUP,
    consumerName: USER_REPLICA_CONSUMER_NAME,
  };
}

/** Consumes hms.identity.events.v1 into clinical.users. */
export function startUserReplicaConsumer(options: UserReplicaOptions): Promise<EventConsumer> {
  return startKitConsumer(kitOptions(options));
}

/** Starts the user replica in the background, retrying until Kafka is reachable. */
export function startUserReplicaSync(options: UserReplicaOptions): BackgroundConsumer {
  return startKitSync(kitOptions(options));
}

/** Message of the BAD_USER_INPUT for a user reference that is not an active user of the tenant. */
export const NOT_AN_ACTIVE_USER =
  'is not an active user of this tenant; give the id of an active user. A user created moments ago is accepted once clinical has received identity.user.created';

/**
 * Throws BAD_USER_INPUT naming each field whose user id is not an active user of the transaction's
 * tenant. A user of another tenant is hidden by row-level security, so it fails exactly as an unknown
 * id does.
 *
 * NOTE: clinical fills clinical.users only when HMS_KAFKA_BROKERS is set. Without Kafka every
 * explicit user reference is rejected, while the default (the signed-in user) still works.
 */
export async function requireActiveUsers(
  em: EntityManager,
  references: { field: string; userId: string }[],
): Promise<void> {
  if (references.length === 0) return;
  const active = await activeUserIds(
    em,
    USERS_TABLE,
    references.map((reference) => reference.userId),
  );
  const invalid = references.filter((reference) => !active.has(reference.userId));
  if (invalid.length > 0) {
    throw HmsError.badUserInput(
      invalid.map((reference) => ({ field: reference.field, message: NOT_AN_ACTIVE_USER })),
    );
  }
}
