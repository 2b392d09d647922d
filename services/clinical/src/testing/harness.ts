import { createLogger, createOrm, migrate, provisionRelayRole } from '@hms/service-kit';
import {
  bearer,
  postGraphQL,
  provisionTestDatabase,
  startTestIssuer,
  testAdminUrl,
  testDatabaseName,
  type GraphQLResponse,
  type ServiceTestDatabase,
  type TestIssuer,
} from '@hms/test-kit';
import { startClinical, type RunningClinical, type StartClinicalOptions } from '../app.js';
import { entities } from '../entities/index.js';
import { extensions, leakproofFunctions, migrations } from '../migrations/index.js';
import { PATIENT_READ, PATIENT_WRITE } from '../patients/resolvers.js';

/** Provisions the clinical schema in the test database and applies its migrations as the owner. */
export async function migrateTestDatabase(): Promise<ServiceTestDatabase> {
  const database = await provisionTestDatabase('clinical', extensions, leakproofFunctions);
  // The outbox policies name the relay role, so it must exist before the migrations.
  await provisionRelayRole({ adminUrl: testAdminUrl, database: testDatabaseName, service: 'clinical' });
  const owner = await createOrm({ clientUrl: database.ownerUrl, schema: 'clinical', entities, migrations });
  try {
    await migrate(owner);
  } finally {
    await owner.close();
  }
  return database;
}

export interface ClinicalHarness {
  url: string;
  database: ServiceTestDatabase;
  issuer: TestIssuer;
  /** Signs a token of a new user of `tenantId`; by default it may read and write patients. */
  token(tenantId: string, perms?: string[]): Promise<string>;
  /** Posts an operation, with `token` as bearer when given and any extra headers (a traceparent). */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  stop(): Promise<void>;
}

/**
 * Starts the clinical subgraph in-process on a free loopback port, against the migrated test
 * database and a test issuer whose JWKS it fetches like identity's.
 */
export async function startHarness(
  options: Pick<StartClinicalOptions, 'onQuery'> = {},
): Promise<ClinicalHarness> {
  const database = await migrateTestDatabase();
  const issuer = await startTestIssuer();
  let running: RunningClinical;
  try {
    running = await startClinical(
      {
        HMS_ENV: 'test',
        HMS_REDIS_URL: 'redis://127.0.0.1:6379',
        HMS_JWKS_URL: issuer.jwksUrl,
        HMS_JWT_ISSUER: issuer.issuer,
        HMS_JWT_AUDIENCE: issuer.audience,
        HMS_DATABASE_URL: database.appUrl,
        HMS_PORT: 0,
      },
      {
        host: '127.0.0.1',
        onQuery: options.onQuery,
        logger: createLogger('clinical', process.env.HMS_LOG_LEVEL ?? 'warn'),
      },
    );
  } catch (error) {
    await issuer.stop();
    throw error;
  }

  return {
    url: running.url,
    database,
    issuer,
    token: (tenantId, perms = [PATIENT_READ, PATIENT_WRITE]) => issuer.sign({ tid: tenantId, perms }),
    graphql: (query, variables = {}, token, headers = {}) =>
      postGraphQL(running.url, query, variables, { ...headers, ...(token ? bearer(token) : {}) }),
    stop: async () => {
      await running.stop();
      await issuer.stop();
    },
  };
}
