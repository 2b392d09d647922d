import { AUDIT_TOPIC, SCHEDULING_EVENTS_TOPIC } from '@hms/proto-schemas';
import {
  createEventBus,
  createLogger,
  createOrm,
  createRedis,
  createTokenVerifier,
  requireTenant,
  scalarResolvers,
  startOutboxRelay,
  startSubgraphServer,
  startTenantSettingsSync,
  type BackgroundConsumer,
  type EventBus,
  type Logger,
  type OutboxRelay,
  type SubgraphContext,
} from '@hms/service-kit';
import type { ReadinessChecks } from '@hms/service-kit/http/health';
import { appointmentResolvers } from './appointments/resolvers.js';
import type { SchedulingConfig } from './config.js';
import { entities } from './entities/index.js';
import { startPatientsSync } from './replicas/clinical-consumer.js';
import { startIdentitySync } from './replicas/identity-consumer.js';
import { scheduleResolvers } from './schedules/resolvers.js';
import { loadTypeDefs } from './type-defs.js';
import { waitlistResolvers } from './waitlist/resolvers.js';

/** Consumer group and name of scheduling's copy of identity's tenant settings. */
export const TENANT_SETTINGS_CONSUMER_GROUP = 'hms-scheduling-tenant-settings';
export const TENANT_SETTINGS_CONSUMER_NAME = 'tenant-settings';

/** Topics and groups of the consumers, so tests can give each run its own. */
export interface SchedulingConsumerOptions {
  identityTopic?: string;
  clinicalTopic?: string;
  /** Suffix of every consumer group, such as a test run's id. */
  groupSuffix?: string;
  /** Start position of new consumer groups; the beginning of each partition unless false. */
  fromBeginning?: boolean;
}

export interface StartSchedulingOptions {
  logger?: Logger;
  /** Interface to listen on; 0.0.0.0 by default, tests pass 127.0.0.1. */
  host?: string;
  /** Sees every SQL statement the ORM sends, for tests that count queries. */
  onQuery?: (sql: string) => void;
  /** `false` runs no consumers (the outbox relay still runs), for systems that feed the copies otherwise. */
  consumers?: SchedulingConsumerOptions | false;
}

export interface RunningScheduling {
  url: string;
  port: number;
  /** The background consumers, when Kafka is configured. */
  consumers: BackgroundConsumer[];
  stop(): Promise<void>;
}

/**
 * Starts the scheduling subgraph. It opens the ORM on the app role. With Kafka it starts the
 * consumers that copy identity's tenants and users and clinical's patient ids, and the outbox relay
 * when its role is configured. The GraphQL server starts last.
 */
export async function startScheduling(
  config: SchedulingConfig,
  options: StartSchedulingOptions = {},
): Promise<RunningScheduling> {
  const logger = options.logger ?? createLogger('scheduling');
  const orm = await createOrm({ clientUrl: config.HMS_DATABASE_URL, schema: 'scheduling', entities });
  const onQuery = options.onQuery;
  if (onQuery) {
    orm.config.set('onQuery', (sql: string) => {
      onQuery(sql);
      return sql;
    });
  }

  // Without Kafka, writes still succeed and their events wait in the outbox, but scheduling learns
  // of no practitioner or patient, so bookings are rejected until the consumers run.
  let bus: EventBus | undefined;
  let relay: OutboxRelay | undefined;
  const consumers: BackgroundConsumer[] = [];
  const readiness: ReadinessChecks = { database: () => orm.em.fork().getConnection().execute('select 1') };
  if (config.HMS_KAFKA_BROKERS?.length) {
    const kafka = createEventBus({ brokers: config.HMS_KAFKA_BROKERS, clientId: 'scheduling', logger });
    bus = kafka;
    const consumerOptions = options.consumers === false ? undefined : (options.consumers ?? {});
    const suffix = consumerOptions?.groupSuffix ? `-${consumerOptions.groupSuffix}` : '';
    const identityTopic = consumerOptions?.identityTopic;
    if (consumerOptions)
      consumers.push(
        startTenantSettingsSync({
          bus: kafka,
          orm,
          logger,
          topic: identityTopic,
          groupId: `${TENANT_SETTINGS_CONSUMER_GROUP}${suffix}`,
          consumerName: TENANT_SETTINGS_CONSUMER_NAME,
          fromBeginning: consumerOptions.fromBeginning,
          columnsOf: (settings) => ({
            time_zone: settings.timeZone,
            read_audit_enabled: settings.readAuditEnabled,
          }),
        }),
        startIdentitySync({
          bus: kafka,
          orm,
          logger,
          topic: identityTopic,
          groupId: suffix ? `hms-scheduling-identity${suffix}` : undefined,
          fromBeginning: consumerOptions.fromBeginning,
        }),
        startPatientsSync({
          bus: kafka,
          orm,
          logger,
          topic: consumerOptions.clinicalTopic,
          groupId: suffix ? `hms-scheduling-patients${suffix}` : undefined,
          fromBeginning: consumerOptions.fromBeginning,
        }),
      );
    if (config.HMS_OUTBOX_RELAY_DATABASE_URL) {
      relay = startOutboxRelay({
        databaseUrl: config.HMS_OUTBOX_RELAY_DATABASE_URL,
        schema: 'scheduling',
        bus: kafka,
        logger,
      });
      readiness.kafka = () => kafka.ensureTopics([SCHEDULING_EVENTS_TOPIC, AUDIT_TOPIC]);
    }
  }
  // identity's session state, so a token of a revoked session or a suspended tenant is rejected even
  // when a caller reaches this subgraph past the gateway.
  const sessionState = createRedis(config.HMS_REDIS_URL, logger);
  const shutDown = async () => {
    await relay?.stop();
    for (const consumer of consumers) await consumer.stop();
    await bus?.disconnect();
    await orm.close();
    sessionState.disconnect();
  };

  try {
    const schedules = scheduleResolvers(orm);
    const appointments = appointmentResolvers(orm);
    const waitlist = waitlistResolvers(orm, schedules.slotsFor, (context: SubgraphContext, id: string) =>
      appointments.loaderOf(context, requireTenant(context)).load(id),
    );
    const server = await startSubgraphServer({
      name: 'scheduling',
      port: config.HMS_PORT,
      host: options.host,
      typeDefs: loadTypeDefs(),
      resolvers: {
        ...scalarResolvers,
        Query: { ...schedules.Query, ...appointments.Query, ...waitlist.Query },
        Mutation: { ...schedules.Mutation, ...appointments.Mutation, ...waitlist.Mutation },
        User: { ...schedules.User, ...appointments.User },
        Patient: appointments.Patient,
        Appointment: appointments.Appointment,
        WaitlistEntry: waitlist.WaitlistEntry,
        PractitionerDay: {
          freeSlots: (day: { practitionerId: string; date: string }, _: unknown, context: SubgraphContext) =>
            schedules.slotsFor(context, { practitionerId: day.practitionerId, from: day.date, to: day.date }),
        },
      },
      verifyToken: createTokenVerifier({
        jwksUrl: config.HMS_JWKS_URL,
        issuer: config.HMS_JWT_ISSUER,
        audience: config.HMS_JWT_AUDIENCE,
      }),
      logger,
      production: config.HMS_ENV === 'production',
      readiness,
      sessionState,
    });
    return {
      url: server.url,
      port: server.port,
      consumers,
      stop: async () => {
        // The server stops first, so that no request writes to the outbox after the relay's last batch.
        await server.stop();
        await shutDown();
      },
    };
  } catch (error) {
    await shutDown();
    throw error;
  }
}
