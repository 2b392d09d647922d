import {
  decodeEnvelope,
  dlqTopic,
  IDENTITY_EVENTS_TOPIC,
  TenantCreatedSchema,
  TenantSettingsChangedSchema,
  timestampDate,
  unpackPayloadAs,
  type EventEnvelope,
} from '@hms/proto-schemas';
import {
  startConsumer,
  type EntityManager,
  type EventBus,
  type EventConsumer,
  type Logger,
  type MikroORM,
} from '@hms/service-kit';
import { backoffDelay, delay } from '@hms/service-kit/events/backoff';

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
}

/** Settings values carried by identity's tenant.created and tenant.settings_changed events. */
interface TenantSettingsValues {
  readAuditEnabled: boolean;
  ageOfMajority: number;
  timeZone: string;
}

/** Returns the settings an identity event carries, or undefined for the event types without them. */
function settingsOf(envelope: EventEnvelope): TenantSettingsValues | undefined {
  if (envelope.type === 'identity.tenant.created') return unpackPayloadAs(envelope, TenantCreatedSchema);
  if (envelope.type === 'identity.tenant.settings_changed') {
    return unpackPayloadAs(envelope, TenantSettingsChangedSchema);
  }
  return undefined;
}

/**
 * Writes the tenant's settings from an identity event in the consumer's tenant transaction. The row
 * keeps the time of the event it came from, so an older event replayed later (from the dead-letter
 * topic, say) does not overwrite a newer state.
 */
async function applySettings(
  em: EntityManager,
  envelope: EventEnvelope,
  settings: TenantSettingsValues,
): Promise<void> {
  const occurredAt = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
  await em.execute(
    `insert into clinical.tenant_settings as current
       (tenant_id, read_audit_enabled, age_of_majority, time_zone, updated_at)
     values (?, ?, ?, ?, ?)
     on conflict (tenant_id) do update
       set read_audit_enabled = excluded.read_audit_enabled,
           age_of_majority = excluded.age_of_majority,
           time_zone = excluded.time_zone,
           updated_at = excluded.updated_at
       where current.updated_at <= excluded.updated_at`,
    [envelope.tenantId, settings.readAuditEnabled, settings.ageOfMajority, settings.timeZone, occurredAt],
  );
}

/**
 * Consumes hms.identity.events.v1 and keeps clinical.tenant_settings equal to the tenant's settings
 * in identity. Identity keys each tenant event by its tenant's id, so one tenant's settings events
 * arrive in order. Event types without settings are recorded as applied and otherwise ignored.
 */
export async function startTenantSettingsConsumer(
  options: TenantSettingsConsumerOptions,
): Promise<EventConsumer> {
  const topic = options.topic ?? IDENTITY_EVENTS_TOPIC;
  // Production brokers usually do not create topics on first use; this is a no-op where they exist.
  await options.bus.ensureTopics([topic, dlqTopic(topic)]);

  return startConsumer({
    bus: options.bus,
    groupId: options.groupId ?? TENANT_SETTINGS_CONSUMER_GROUP,
    topics: [topic],
    orm: options.orm,
    consumerName: TENANT_SETTINGS_CONSUMER_NAME,
    decode: (bytes) => decodeEnvelope(bytes),
    handle: async (envelope, em) => {
      const settings = settingsOf(envelope);
      if (!settings) return;

      // Events written before identity added the values have an age of majority of 0, which identity
      // never allows (1 to 30), so they carry no settings to copy.
      if (settings.ageOfMajority === 0 || settings.timeZone === '') {
        options.logger.warn(
          { eventId: envelope.eventId, eventType: envelope.type, tenantId: envelope.tenantId },
          'Skipped a tenant event without settings values; it predates them, so the tenant keeps its current settings.',
        );
        return;
      }
      await applySettings(em, envelope, settings);
    },
    logger: options.logger,
  });
}

/** The tenant-settings consumer of a running service, started in the background. */
export interface TenantSettingsSync {
  /** The consumer, once started. */
  readonly consumer: EventConsumer | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the consumer in the background, retrying until Kafka is reachable, so clinical serves
 * patients while Kafka is down. Settings changes made meanwhile wait in Kafka.
 */
export function startTenantSettingsSync(options: TenantSettingsConsumerOptions): TenantSettingsSync {
  const stopping = new AbortController();
  let consumer: EventConsumer | undefined;

  const started = (async () => {
    for (let failures = 1; !stopping.signal.aborted; failures++) {
      try {
        consumer = await startTenantSettingsConsumer(options);
        return;
      } catch (error) {
        const retryInMs = backoffDelay(failures, { initialMs: 1_000, maxMs: 30_000 });
        if (failures === 1 || failures % 10 === 0) {
          options.logger.warn(
            { err: error, failures, retryInMs },
            'The tenant-settings consumer could not start; tenant settings changes wait in Kafka until it does. Retrying.',
          );
        }
        await delay(retryInMs, stopping.signal);
      }
    }
  })();

  return {
    get consumer() {
      return consumer;
    },
    async stop() {
      stopping.abort();
      await started;
      await consumer?.stop();
    },
  };
}
