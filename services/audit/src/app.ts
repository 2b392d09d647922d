import { AUDIT_TOPIC } from '@hms/proto-schemas';
import {
  createEventBus,
  createLogger,
  createOrm,
  createTokenVerifier,
  scalarResolvers,
  startSubgraphServer,
  type Logger,
  createRedis,
} from '@hms/service-kit';
import type { ReadinessChecks } from '@hms/service-kit/http/health';
import type { AuditConfig } from './config.js';
import { entities } from './entities/index.js';
import { incidentResolvers } from './incidents/resolvers.js';
import { startAuditIngest, type AuditIngest } from './ingest/consumer.js';
import { auditRecordResolvers } from './records/resolvers.js';
import { loadTypeDefs } from './type-defs.js';

export interface StartAuditOptions {
  logger?: Logger;
  /** Interface to listen on; 0.0.0.0 by default, tests pass 127.0.0.1. */
  host?: string;
  /** Sees every SQL statement the ORM sends, for tests that count queries. */
  onQuery?: (sql: string) => void;
  /**
   * The consumer of audit records from Kafka: on by default, `false` serves the graph alone (tests
   * of the graph), and a topic and group of its own keep a test's records apart from everyone else's.
   */
  consumer?: false | { topic?: string; groupId?: string; fromBeginning?: boolean };
}

export interface RunningAudit {
  url: string;
  port: number;
  /** The Kafka consumer, unless it was turned off; it starts in the background. */
  ingest?: AuditIngest;
  stop(): Promise<void>;
}

/** Starts the audit subgraph: the ORM on the app role, the consumer of hms.audit.v1, then the GraphQL server. */
export async function startAudit(
  config: AuditConfig,
  options: StartAuditOptions = {},
): Promise<RunningAudit> {
  const logger = options.logger ?? createLogger('audit');
  const orm = await createOrm({ clientUrl: config.HMS_DATABASE_URL, schema: 'audit', entities });
  const onQuery = options.onQuery;
  if (onQuery) {
    orm.config.set('onQuery', (sql: string) => {
      onQuery(sql);
      return sql;
    });
  }

  const consumerOptions = options.consumer === false ? undefined : (options.consumer ?? {});
  const bus = consumerOptions
    ? createEventBus({ brokers: config.HMS_KAFKA_BROKERS, clientId: 'audit', logger })
    : undefined;
  let ingest: AuditIngest | undefined;
  // identity's session state, so a token of a revoked session or a suspended tenant is rejected even
  // when a caller reaches this subgraph past the gateway.
  const sessionState = createRedis(config.HMS_REDIS_URL, logger);
  const shutDown = async () => {
    await ingest?.stop();
    await bus?.disconnect();
    await orm.close();
    sessionState.disconnect();
  };

  try {
    const readiness: ReadinessChecks = { database: () => orm.em.fork().getConnection().execute('select 1') };
    if (bus && consumerOptions) {
      const topic = consumerOptions.topic ?? AUDIT_TOPIC;
      const running = startAuditIngest({
        bus,
        orm,
        logger,
        topic,
        groupId: consumerOptions.groupId,
        fromBeginning: consumerOptions.fromBeginning,
      });
      ingest = running;
      readiness.kafka = async () => {
        if (!running.consumer) throw new Error('The consumer of hms.audit.v1 has not started yet.');
        await bus.ensureTopics([topic]);
      };
    }

    const records = auditRecordResolvers(orm);
    const incidents = incidentResolvers(orm);
    const server = await startSubgraphServer({
      name: 'audit',
      port: config.HMS_PORT,
      host: options.host,
      typeDefs: loadTypeDefs(),
      resolvers: {
        ...scalarResolvers,
        ...records,
        ...incidents,
        Query: { ...records.Query, ...incidents.Query },
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
      ingest,
      stop: async () => {
        // The server stops first so no request starts on a closing ORM; the consumer then finishes
        // the record in progress before the ORM closes.
        await server.stop();
        await shutDown();
      },
    };
  } catch (error) {
    await shutDown();
    throw error;
  }
}
