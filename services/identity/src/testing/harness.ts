import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createLogger, createOrm, migrate, provisionRelayRole } from '@hms/service-kit';
import {
  bearer,
  postGraphQL,
  provisionTestDatabase,
  testAdminUrl,
  testDatabaseName,
  type GraphQLResponse,
  type ServiceTestDatabase,
} from '@hms/test-kit';
import { startIdentity, type RunningIdentity } from '../app.js';
import { loadIdentityConfig, type IdentityConfig } from '../config.js';
import { identityEntities } from '../entities/index.js';
import { identityMigrations } from '../migrations/index.js';
import { createPlatformOperator } from '../platform/operators.js';
import { PasswordHasher } from '../users/passwords.js';

export const TEST_ISSUER = 'https://identity.hms.test';
export const TEST_AUDIENCE = 'hms-graph';
/**
 * Fixed across test runs on purpose: signing keys persist in the test database encrypted under it, and
 * a different key per run would make the next start refuse the stored active key.
 */
export const TEST_KEY_ENCRYPTION_KEY = createHash('sha256')
  .update('hms identity test key encryption key')
  .digest('base64');
export const REDIS_URL = process.env.HMS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A password that satisfies every default policy; tests that exercise the policy pick their own. */
export const GOOD_PASSWORD = 'correct horse battery staple';

export interface TestIdentity {
  identity: RunningIdentity;
  database: ServiceTestDatabase;
  config: IdentityConfig;
  redis: Redis;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  /** Signs in as a fresh platform operator and returns its access token. */
  operatorToken(): Promise<string>;
  /** Creates a tenant with a random slug through the graph; returns its id, slug and admin credentials. */
  createTenant(operatorToken?: string): Promise<TestTenant>;
  /** Signs in and returns the access payload, failing the test on error. */
  login(input: Record<string, unknown>): Promise<LoginResult>;
  stop(): Promise<void>;
}

export interface TestTenant {
  id: string;
  slug: string;
  adminUserId: string;
  adminEmail: string;
  adminPassword: string;
}

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: { id: string } | null;
  principalId: string;
}

export function randomSlug(prefix = 't'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function randomEmail(prefix = 'user'): string {
  return `${prefix}.${randomBytes(5).toString('hex')}@example.org`;
}

/** Migrates the identity schema in the test database (once per process) and returns its URLs. */
let migrated: Promise<ServiceTestDatabase> | undefined;
export function migratedTestDatabase(): Promise<ServiceTestDatabase> {
  migrated ??= (async () => {
    const database = await provisionTestDatabase('identity');
    // The outbox policies name the relay role, so it must exist before the migrations.
    await provisionRelayRole({ adminUrl: testAdminUrl, database: testDatabaseName, service: 'identity' });
    const owner = await createOrm({
      clientUrl: database.ownerUrl,
      schema: 'identity',
      entities: identityEntities,
      migrations: identityMigrations,
    });
    try {
      await migrate(owner);
    } finally {
      await owner.close();
    }
    return database;
  })();
  return migrated;
}

export function testConfig(
  database: ServiceTestDatabase,
  overrides: Record<string, string> = {},
): IdentityConfig {
  return loadIdentityConfig({
    HMS_ENV: 'test',
    HMS_DATABASE_URL: database.appUrl,
    HMS_REDIS_URL: REDIS_URL,
    HMS_JWT_ISSUER: TEST_ISSUER,
    HMS_JWT_AUDIENCE: TEST_AUDIENCE,
    HMS_IDENTITY_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    ...overrides,
  });
}

/** Starts identity on a free loopback port against the test database and the local Redis. */
export async function startTestIdentity(overrides: Record<string, string> = {}): Promise<TestIdentity> {
  const database = await migratedTestDatabase();
  const config = testConfig(database, overrides);
  const logger = createLogger('identity-test', process.env.HMS_LOG_LEVEL ?? 'silent');
  const identity = await startIdentity(config, { port: 0, host: '127.0.0.1', logger });
  const redis = new Redis(REDIS_URL);

  const gql: TestIdentity['gql'] = async (query, variables = {}, token, headers = {}) => {
    const { body } = await postGraphQL(identity.url, query, variables, {
      ...(token ? bearer(token) : {}),
      ...headers,
    });
    return body as never;
  };

  const login = async (input: Record<string, unknown>): Promise<LoginResult> => {
    const response = await gql<{ login: LoginResult }>(
      'mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresAt principalId user { id } } }',
      { input },
    );
    if (!response.data?.login) throw new Error(`login failed: ${JSON.stringify(response.errors)}`);
    return response.data.login;
  };

  const operatorToken = async () => {
    const email = randomEmail('operator');
    const password = 'operator password that is long';
    await createPlatformOperator(identity.services.deps.orm, new PasswordHasher(), {
      email,
      password,
      name: 'Test Operator',
    });
    return (await login({ email, password })).accessToken;
  };

  const createTenant = async (token?: string): Promise<TestTenant> => {
    const slug = randomSlug();
    const adminEmail = randomEmail('admin');
    const response = await gql<{ createTenant: { tenant: { id: string }; adminUserId: string } }>(
      `mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } adminUserId } }`,
      {
        input: {
          slug,
          name: `Hospital ${slug}`,
          timeZone: 'Asia/Kolkata',
          currency: 'INR',
          admin: { name: 'Tenant Admin', email: adminEmail, password: GOOD_PASSWORD },
        },
      },
      token ?? (await operatorToken()),
    );
    if (!response.data?.createTenant)
      throw new Error(`createTenant failed: ${JSON.stringify(response.errors)}`);
    return {
      id: response.data.createTenant.tenant.id,
      slug,
      adminUserId: response.data.createTenant.adminUserId,
      adminEmail,
      adminPassword: GOOD_PASSWORD,
    };
  };

  return {
    identity,
    database,
    config,
    redis,
    gql,
    login,
    operatorToken,
    createTenant,
    stop: async () => {
      redis.disconnect();
      await identity.stop();
    },
  };
}

/** Runs `query` as the app role on a plain connection that never set a tenant. */
export async function queryAsAppRoleWithoutTenant<T extends pg.QueryResultRow>(
  database: ServiceTestDatabase,
  query: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.appUrl });
  await client.connect();
  try {
    return (await client.query<T>(query)).rows;
  } finally {
    await client.end();
  }
}
