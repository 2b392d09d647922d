import { AUDIT_TOPIC, CLINICAL_EVENTS_TOPIC } from '@hms/proto-schemas';
import {
  createEventBus,
  createLogger,
  createOrm,
  createTokenVerifier,
  scalarResolvers,
  startOutboxRelay,
  startSubgraphServer,
  type BackgroundConsumer,
  type EventBus,
  type Logger,
  type OutboxRelay,
  createRedis,
} from '@hms/service-kit';
import type { ReadinessChecks } from '@hms/service-kit/http/health';
import type { ClinicalConfig } from './config.js';
import { encounterAreaResolvers, mergeResolvers } from './encounters/index.js';
import { entities } from './entities/index.js';
import { patientResolvers } from './patients/resolvers.js';
import { recordResolvers } from './records/resolvers.js';
import {
  startTenantSettingsSync,
  TENANT_SETTINGS_CONSUMER_GROUP,
  type TenantSettingsSync,
} from './tenants/settings-consumer.js';
import { startUserReplicaSync, USER_REPLICA_CONSUMER_GROUP } from './tenants/user-replica.js';
import { loadTypeDefs } from './type-defs.js';

export interface StartClinicalOptions {
  logger?: Logger;
  /** Interface to listen on; 0.0.0.0 by default, tests pass 127.0.0.1. */
  host?: string;
  /** Sees every SQL statement the ORM sends, for tests that count queries. */
  onQuery?: (sql: string) => void;
  /**
   * Consumer groups of the identity consumers. End-to-end tests give a suffix of their own, so they
   * share no group with another clinical on the same Kafka, and may start at the newest events.
   */
  consumers?: { groupSuffix?: string; fromBeginning?: boolean };
}

export interface RunningClinical {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the clinical subgraph: the ORM on the app role, the tenant-settings consumer and outbox relay
 * when configured, then the GraphQL server.
 */
export async function startClinical(
  config: ClinicalConfig,
  options: StartClinicalOptions = {},
): Promise<RunningClinical> {
  const logger = options.logger ?? createLogger('clinical');
  const orm = await createOrm({
    clientUrl: config.HMS_DATABASE_URL,
    schema: 'clinical',
    entities,
  });
  const onQuery = options.onQuery;
  if (onQuery) {
    orm.config.set('onQuery', (sql: string) => {
      onQuery(sql);
      return sql;
    });
  }

  // With Kafka configured, clinical copies tenant settings and users from identity's events, and the outbox
  // relay runs in-process when its role is configured too. Without the relay writes still succeed,
  // and their events wait in the outbox for a relay.
  let bus: EventBus | undefined;
  let relay: OutboxRelay | undefined;
  let tenantSettings: TenantSettingsSync | undefined;
  let users: BackgroundConsumer | undefined;
  const readiness: ReadinessChecks = { database: () => orm.em.fork().getConnection().execute('select 1') };
  if (config.HMS_KAFKA_BROKERS?.length) {
    const kafka = createEventBus({ brokers: config.HMS_KAFKA_BROKERS, clientId: 'clinical', logger });
    bus = kafka;
    const suffix = options.consumers?.groupSuffix ? `-${options.consumers.groupSuffix}` : '';
    const fromBeginning = options.consumers?.fromBeginning;
    tenantSettings = startTenantSettingsSync({
      bus: kafka,
      orm,
      logger,
      groupId: `${TENANT_SETTINGS_CONSUMER_GROUP}${suffix}`,
      fromBeginning,
    });
    users = startUserReplicaSync({
      bus: kafka,
      orm,
      logger,
      groupId: `${USER_REPLICA_CONSUMER_GROUP}${suffix}`,
      fromBeginning,
    });
    if (config.HMS_OUTBOX_RELAY_DATABASE_URL) {
      relay = startOutboxRelay({
        databaseUrl: config.HMS_OUTBOX_RELAY_DATABASE_URL,
        schema: 'clinical',
        bus: kafka,
        logger,
      });
      readiness.kafka = () => kafka.ensureTopics([CLINICAL_EVENTS_TOPIC, AUDIT_TOPIC]);
    }
  }
  // identity's session state, so a token of a revoked session or a suspended tenant is rejected even
  // when a caller reaches this subgraph past the gateway.
  const sessionState = createRedis(config.HMS_REDIS_URL, logger);
  const shutDown = async () => {
    await relay?.stop();
    await tenantSettings?.stop();
    await users?.stop();
    await bus?.disconnect();
    await orm.close();
    sessionState.disconnect();
  };

  try {
    const server = await startSubgraphServer({
      name: 'clinical',
      port: config.HMS_PORT,
      host: options.host,
      typeDefs: loadTypeDefs(),
      resolvers: mergeResolvers(
        scalarResolvers,
        patientResolvers(orm),
        encounterAreaResolvers(orm),
        recordResolvers(orm),
      ),
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
