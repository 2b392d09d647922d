import { createLogger, type EventConsumer, type MikroORM } from '@hms/service-kit';
import {
  bearer,
  postGraphQL,
  startTestIssuer,
  type GraphQLResponse,
  type ServiceTestDatabase,
  type TestIssuer,
} from '@hms/test-kit';
import { startAudit, type RunningAudit, type StartAuditOptions } from '../app.js';
import { AUDIT_READ } from '../records/resolvers.js';
import { migrateTestDatabase, openAppOrm } from './database.js';

export { migrateTestDatabase };

/** Kafka of the local infrastructure (infra/start); tests that consume records need it running. */
export const testKafkaBrokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

export interface AuditHarness {
  url: string;
  database: ServiceTestDatabase;
  issuer: TestIssuer;
  /** An ORM on the app role, for tests that append records directly as the consumer does. */
  orm: MikroORM;
  /** The running service's Kafka consumer, started, when the harness was started with one. */
  consumer?: EventConsumer;
  /** Signs a token of a new user of `tenantId`; by default the user may read the audit log. */
  token(tenantId: string, perms?: string[], sub?: string): Promise<string>;
  /** Posts an operation, with `token` as bearer when given. */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  stop(): Promise<void>;
}

/**
 * Starts the audit subgraph in-process on a free loopback port, against the migrated test database
 * and a test issuer whose JWKS it fetches like identity's.
 */
export async function startHarness(
  options: Pick<StartAuditOptions, 'onQuery' | 'consumer'> & { kafkaBrokers?: string[] } = {},
): Promise<AuditHarness> {
  const database = await migrateTestDatabase();
  const issuer = await startTestIssuer();
  let running: RunningAudit;
  try {
    running = await startAudit(
      {
        HMS_ENV: 'test',
        HMS_REDIS_URL: 'redis://127.0.0.1:6379',
        HMS_JWKS_URL: issuer.jwksUrl,
        HMS_JWT_ISSUER: issuer.issuer,
        HMS_JWT_AUDIENCE: issuer.audience,
        HMS_DATABASE_URL: database.appUrl,
        HMS_PORT: 0,
        HMS_KAFKA_BROKERS: options.kafkaBrokers ?? testKafkaBrokers,
      },
      {
        host: '127.0.0.1',
        onQuery: options.onQuery,
        // Tests of the graph need no Kafka; consumer tests pass a topic of their own.
        consumer: options.consumer ?? false,
        logger: createLogger('audit', process.env.HMS_LOG_LEVEL ?? 'warn'),
      },
    );
  } catch (error) {
    await issuer.stop();
    throw error;
  }
  const orm = await openAppOrm(database);
  // Waits for the consumer unless the test points it at a broker that is down on purpose.
  const consumer = options.kafkaBrokers ? undefined : await running.ingest?.started;

  return {
    url: running.url,
    database,
    issuer,
    orm,
    consumer,
    token: (tenantId, perms = [AUDIT_READ], sub) =>
      issuer.sign({ tid: tenantId, perms, ...(sub ? { sub } : {}) }),
    graphql: (query, variables = {}, token, headers = {}) =>
      postGraphQL(running.url, query, variables, { ...(token ? bearer(token) : {}), ...headers }),
    stop: async () => {
      await orm.close();
      await running.stop();
      await issuer.stop();
    },
  };
}
