import {
  startTenantSettingsConsumer as startKitConsumer,
  startTenantSettingsSync as startKitSync,
  type BackgroundConsumer,
  type EventBus,
  type EventConsumer,
  type Logger,
  type MikroORM,
  type TenantSettingsConsumerOptions as KitOptions,
} from '@hms/service-kit';

/** Consumer group of clinical on hms.identity.events.v1. */
export const TENANT_SETTINGS_CONSUMER_GROUP = 'hms-clinical-tenant-settings';
/** Name under which the consumer records the event ids it has applied. */
export const TENANT_SETTINGS_CONSUMER_NAME = 'tenant-settings';

export interface TenantSettingsConsumerOptions {
  bus: EventBus;
  orm: MikroORM;
  logger: Logger;
  /** Tests use their own topic and group, so they never take events meant for others. */
  topic?: string;
  groupId?: string;
  /** Start position of a new consumer group; the beginning of each partition unless false. */
  fromBeginning?: boolean;
}

/** Returns the kit's consumer options with clinical's group and the columns of clinical.tenant_settings. */
function kitOptions(options: TenantSettingsConsumerOptions): KitOptions {
  return {
    ...options,
    groupId: options.groupId ?? TENANT_SETTINGS_CONSUMER_GROUP,
    consumerName: TENANT_SETTINGS_CONSUMER_NAME,
    columnsOf: (settings) => ({
      read_audit_enabled: settings.readAuditEnabled,
      age_of_majority: settings.ageOfMajority,
      time_zone: settings.timeZone,
    }),
  };
}

/** Consumes hms.identity.events.v1 and keeps clinical.tenant_settings equal to identity's settings. */
export function startTenantSettingsConsumer(options: TenantSettingsConsumerOptions): Promise<EventConsumer> {
  return startKitConsumer(kitOptions(options));
}

/** The tenant-settings consumer of a running service, started in the background. */
export type TenantSettingsSync = BackgroundConsumer;

/**
 * Starts the consumer in the background, retrying until Kafka is reachable, so clinical serves
 * patients while Kafka is down. Settings changes made meanwhile wait in Kafka.
 */
export function startTenantSettingsSync(options: TenantSettingsConsumerOptions): TenantSettingsSync {
  return startKitSync(kitOptions(options));
}
