import { randomBytes } from 'node:crypto';
import { createLogger } from '@hms/service-kit';
import { postGraphQL, type GraphQLResponse } from '@hms/test-kit';
import { startClinical, type RunningClinical } from '../../services/clinical/src/app.js';
import { migrateTestDatabase as migrateClinical } from '../../services/clinical/src/testing/harness.js';
import {
  startTestIdentity,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestIdentity,
} from '../../services/identity/src/testing/harness.js';
import { DEFAULT_QUERY_LIMITS, DEFAULT_RATE_LIMITS } from '../../gateway/src/config.js';
import { startGateway, type RunningGateway } from '../../gateway/src/gateway.js';
import { SUPERGRAPH_FILE } from '../../gateway/src/subgraphs.js';

export const REDIS_URL = process.env.HMS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The whole graph in one process: identity, clinical and the gateway on free loopback ports, against
 * the test database and the local Redis, with the committed supergraph. Requests go to the gateway as
 * a frontend's would.
 */
export interface System {
  gatewayUrl: string;
  clinicalUrl: string;
  identity: TestIdentity;
  /** Posts to the gateway; `clientIp` lets a test use its own rate-limit bucket. */
  gateway<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  /** Posts straight to the clinical subgraph, bypassing the gateway. */
  clinical<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  stop(): Promise<void>;
}

export async function startSystem(): Promise<System> {
  const identity = await startTestIdentity();
  const logger = createLogger('e2e', process.env.HMS_LOG_LEVEL ?? 'silent');
  const jwksUrl = `${identity.identity.origin}/.well-known/jwks.json`;

  const clinicalDatabase = await migrateClinical();
  let clinical: RunningClinical | undefined;
  let gateway: RunningGateway | undefined;
  try {
    clinical = await startClinical(
      {
        HMS_ENV: 'test',
        HMS_REDIS_URL: REDIS_URL,
        HMS_JWKS_URL: jwksUrl,
        HMS_JWT_ISSUER: TEST_ISSUER,
        HMS_JWT_AUDIENCE: TEST_AUDIENCE,
        HMS_DATABASE_URL: clinicalDatabase.appUrl,
        HMS_PORT: 0,
      },
      { host: '127.0.0.1', logger },
    );

    gateway = await startGateway(
      {
        environment: 'test',
        host: '127.0.0.1',
        port: 0,
        redisUrl: REDIS_URL,
        jwt: { jwksUrl, issuer: TEST_ISSUER, audience: TEST_AUDIENCE },
        identityInternalUrl: identity.identity.origin,
        supergraph: { file: SUPERGRAPH_FILE },
        subgraphs: [
          { name: 'identity', url: identity.identity.url },
          { name: 'clinical', url: clinical.url },
        ],
        trustProxy: false,
        limits: DEFAULT_QUERY_LIMITS,
        // Every test signs in from 127.0.0.1; the production login limit would throttle the suite.
        rateLimits: { ...DEFAULT_RATE_LIMITS, loginPerIp: 10_000, anonymousPerIp: 10_000 },
        tenantStatusCacheSeconds: 300,
        logLevel: 'silent',
      },
      { logger },
    );
  } catch (error) {
    await clinical?.stop();
    await identity.stop();
    throw error;
  }

  const runningGateway = gateway;
  const runningClinical = clinical;
  const post =
    (url: string) =>
    async (query: string, variables: Record<string, unknown> = {}, token?: string) =>
      postGraphQL(url, query, variables, token ? { authorization: `Bearer ${token}` } : {}) as never;

  return {
    gatewayUrl: runningGateway.url,
    clinicalUrl: runningClinical.url,
    identity,
    gateway: post(runningGateway.url),
    clinical: post(runningClinical.url),
    stop: async () => {
      await runningGateway.stop();
      await runningClinical.stop();
      await identity.stop();
    },
  };
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}
