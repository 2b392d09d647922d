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
import type { Logger } from 'pino';
import type { EntityManager, MikroORM } from '../db/orm.js';
import type { EventBus } from './bus.js';
import { startConsumerInBackground, type BackgroundConsumer } from './background.js';
import { startConsumer, type EventConsumer } from './consumer.js';
import { checkedSchema } from './outbox.js';

/** Settings values carried by identity's tenant.created and tenant.settings_changed events. */
export interface TenantSettingsValues {
  readAuditEnabled: boolean;
  ageOfMajority: number;
  timeZone: string;
}

/** Returns the settings an identity event carries, or undefined for the event types without them. */
export function tenantSettingsOf(envelope: EventEnvelope): TenantSettingsValues | undefined {
  if (envelope.type === 'identity.tenant.created') return unpackPayloadAs(envelope, TenantCreatedSchema);
  if (envelope.type === 'identity.tenant.settings_changed') {
    return unpackPayloadAs(envelope, TenantSettingsChangedSchema);
  }
  return undefined;
}

/**
 * Tells whether settings predate the values: identity never allows an age of majority of 0 (it
 * allows 1 to 30) nor an empty time zone, so such an event carries no settings to copy.
 */
export function lacksSettingsValues(settings: TenantSettingsValues): boolean {
  return settings.ageOfMajority === 0 || settings.timeZone === '';
}

/**
 * Writes a tenant's settings row in `<schema>.tenant_settings` from an identity event, in the
 * consumer's tenant transaction. `columns` maps column names (plain identifiers) to values. The row
 * keeps the time of the event it came from in `updated_at`, so an older event replayed later (from
 * the dead-letter topic, say) does not overwrite a newer state.
 */
export async function upsertTenantSettings(
  em: EntityManager,
  schema: string,
  envelope: EventEnvelope,
  columns: Record<string, unknown>,
): Promise<void> {
  const names = Object.keys(columns);
  for (const name of names) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`Invalid column name ${JSON.stringify(name)}.`);
  }
  const occurredAt = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
  const assignments = names.map((name) => `${name} = excluded.${name}`).join(', ');
  await em.execute(
    `insert into ${checkedSchema(schema)}.tenant_settings as current (tenant_id, ${names.join(', ')}, updated_at)
     values (?, ${names.map(() => '?').join(', ')}, ?)
     on conflict (tenant_id) do update
       set ${assignments}, updated_at = excluded.updated_at
       where current.updated_at <= excluded.updated_at`,
    [envelope.tenantId, ...names.map((name) => columns[name]), occurredAt],
  );
}

export interface TenantSettingsConsumerOptions {
  bus: EventBus;
  orm: MikroORM;
  logger: Logger;
  /** Consumer group on hms.identity.events.v1, such as `hms-clinical-tenant-settings`. */
  groupId: string;
  /** Name under which the consumer records the event ids it has applied. */
  consumerName: string;
  /** The service's columns of tenant_settings and their values from the event's settings. */
  columnsOf(settings: TenantSettingsValues): Record<string, unknown>;
  /** Tests use their own topic, so they never take events meant for others. */
  topic?: string;
  /** Start position of a new consumer group; the beginning of each partition unless false. */
  fromBeginning?: boolean;
}

/**
 * Consumes hms.identity.events.v1 and keeps `<schema>.tenant_settings` of the ORM's schema equal to
 * the tenant's settings in identity. Identity keys each tenant event by its tenant's id, so one
 * tenant's settings events arrive in order. Event types without settings are recorded as applied
 * and otherwise ignored.
 */
export async function startTenantSettingsConsumer(
  options: TenantSettingsConsumerOptions,
): Promise<EventConsumer> {
  const topic = options.topic ?? IDENTITY_EVENTS_TOPIC;
  const schema = checkedSchema(options.orm.config.get('schema') ?? '');
  // Production brokers usually do not create topics on first use; this is a no-op where they exist.
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
      const settings = tenantSettingsOf(envelope);
      if (!settings) return;
      if (lacksSettingsValues(settings)) {
        options.logger.warn(
          { eventId: envelope.eventId, eventType: envelope.type, tenantId: envelope.tenantId },
          'Skipped a tenant event without settings values; it predates them, so the tenant keeps its current settings.',
        );
        return;
      }
      await upsertTenantSettings(em, schema, envelope, options.columnsOf(settings));
    },
    logger: options.logger,
  });
}

/**
 * Starts the tenant-settings consumer in the background, retrying until Kafka is reachable, so the
 * service serves its graph while Kafka is down.
 */
export function startTenantSettingsSync(options: TenantSettingsConsumerOptions): BackgroundConsumer {
  return startConsumerInBackground(() => startTenantSettingsConsumer(options), {
    logger: options.logger,
    name: options.consumerName,
    description: 'tenant settings changes',
  });
}
