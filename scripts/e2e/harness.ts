import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { AUDIT_TOPIC, CLINICAL_EVENTS_TOPIC, IDENTITY_EVENTS_TOPIC } from '@hms/proto-schemas';
import { createLogger } from '@hms/service-kit';
import { postGraphQL, type GraphQLResponse } from '@hms/test-kit';
import { startAudit, type RunningAudit } from '../../services/audit/src/app.js';
import { migrateTestDatabase as migrateAudit } from '../../services/audit/src/testing/harness.js';
import { startClinical, type RunningClinical } from '../../services/clinical/src/app.js';
import { TENANT_SETTINGS_CONSUMER_GROUP as CLINICAL_TENANT_SETTINGS_GROUP } from '../../services/clinical/src/tenants/settings-consumer.js';
import { USER_REPLICA_CONSUMER_GROUP as CLINICAL_USERS_GROUP } from '../../services/clinical/src/tenants/user-replica.js';
import { migrateTestDatabase as migrateClinical } from '../../services/clinical/src/testing/harness.js';
import {
  startScheduling,
  TENANT_SETTINGS_CONSUMER_GROUP as SCHEDULING_TENANT_SETTINGS_GROUP,
  type RunningScheduling,
} from '../../services/scheduling/src/app.js';
import { migrateTestDatabase as migrateScheduling } from '../../services/scheduling/src/testing/harness.js';
import type { ServiceTestDatabase } from '@hms/test-kit';
import {
  migratedTestDatabase,
  startTestIdentity,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestIdentity,
} from '../../services/identity/src/testing/harness.js';
import { DEFAULT_QUERY_LIMITS, DEFAULT_RATE_LIMITS, type RateLimits } from '../../gateway/src/config.js';
import { startGateway, type RunningGateway } from '../../gateway/src/gateway.js';
import { SUPERGRAPH_FILE } from '../../gateway/src/subgraphs.js';

export const REDIS_URL = process.env.HMS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const KAFKA_BROKERS = process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092';

/**
 * Consumer group of the end-to-end audit service, new for each run and starting at the end of the
 * topic as of the start (see `commitTopicEnd`). A run therefore reads only what it publishes itself,
 * never the history of earlier runs on the same Kafka. A system started with scripts/start keeps receiving every record in its own group.
 */
const e2eAuditGroup = () => `hms-audit-e2e-${randomBytes(6).toString('hex')}`;

/**
 * Commits the current end of `topic` as the offsets of the new group `groupId`. A consumer of that
 * group then reads every message published from now on and none of the topic's history. A new group
 * that starts "from the end" instead resolves the end at its first fetch after joining, which can take
 * seconds on a busy broker, and skips what was published meanwhile. Without the topic there is no
 * history, and the consumer, started from the beginning, reads everything.
 */
async function commitTopicEnd(brokers: string[], groupId: string, topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'hms-e2e', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return;
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: offsets.map(({ partition, high }) => ({ partition, offset: high })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the audit service's consumer has joined its group, for at most 60 s. */
async function waitForAuditConsumer(audit: RunningAudit): Promise<void> {
  const readyUrl = audit.url.replace(/\/graphql$/, '/readyz');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(readyUrl);
    if (response.ok) return;
    if (Date.now() > deadline)
      throw new Error(`The audit service was not ready within 60 s: ${await response.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Marks as sent the outbox rows that other test suites left in the shared test database. Those
 * suites run without a relay, so their rows pile up across runs. Relaying them here would make the
 * audit consumer work through thousands of unrelated records before this run's own.
 */
async function discardPendingOutbox(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const schema of ['identity', 'clinical', 'scheduling']) {
      await client.query(`update ${schema}.outbox set sent_at = now() where sent_at is null`);
    }
  } finally {
    await client.end();
  }
}

/** URL of a service's outbox relay role in the test database, whose migrations created it. */
function relayUrl(appUrl: string, service: string): string {
  const url = new URL(appUrl);
  url.username = `hms_${service}_relay`;
  return url.toString();
}

/**
 * The whole graph in one process: identity, clinical, scheduling and the gateway on free loopback
 * ports, each subgraph behind a proxy that counts its requests, against
 * the test database and the local Redis, with the committed supergraph. Requests go to the gateway as
 * a frontend's would.
 */
export interface System {
  gatewayUrl: string;
  clinicalUrl: string;
  schedulingUrl: string;
  /**
   * The scheduling test database. Without the event pipeline nothing fills scheduling's copies of
   * practitioners and patients, so tests apply identity's and clinical's events to it themselves.
   */
  schedulingDatabase: ServiceTestDatabase;
  /** Requests the gateway sent to each subgraph since the last reset, by subgraph name. */
  subgraphRequests: Map<string, number>;
  identity: TestIdentity;
  /** Present when the system was started with its event pipeline. */
  audit?: RunningAudit;
  scheduling: RunningScheduling;
  /** The clinical test database, whose owner role a test or benchmark may use to seed rows in bulk. */
  clinicalDatabase: ServiceTestDatabase;
  /**
   * Posts to the gateway. `headers` are sent as the client's, such as a `traceparent` that the
   * gateway forwards to the subgraphs.
   */
  gateway<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  /** Posts straight to the clinical subgraph, bypassing the gateway. */
  clinical<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  /**
   * Runs the outbox relays of identity, clinical and scheduling and the audit service's consumer against the
   * local Kafka, so writes become events and audit records as in production.
   */
  events?: boolean;
  /** Kafka to use instead of the shared local broker, e.g. one a test stops and starts. */
  kafkaBrokers?: string[];
  /** Sees every SQL statement the clinical subgraph's ORM sends, for tests that count statements. */
  clinicalOnQuery?: (sql: string) => void;
  /** Gateway rate limits that replace the defaults, such as a higher per-tenant limit for a benchmark. */
  rateLimits?: Partial<RateLimits>;
}

/**
 * Starts a loopback HTTP proxy in front of a subgraph that counts the requests it forwards, so a
 * test can check how many subgraph calls one gateway request costs.
 */
async function startCountingProxy(
  name: string,
  targetUrl: string,
  counts: Map<string, number>,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = new Headers();
      for (const [key, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && key !== 'host' && key !== 'content-length') headers.set(key, value);
      }
      fetch(targetUrl, {
        method: request.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      })
        .then(async (upstream) => {
          response.writeHead(upstream.status, {
            'content-type': upstream.headers.get('content-type') ?? 'application/json',
          });
          response.end(Buffer.from(await upstream.arrayBuffer()));
        })
        .catch((error: unknown) => {
          response.writeHead(502);
          response.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, server };
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const kafkaBrokers = options.kafkaBrokers ?? KAFKA_BROKERS.split(',');
  const logger = createLogger('e2e', process.env.HMS_LOG_LEVEL ?? 'silent');
  const clinicalDatabase = await migrateClinical();
  const schedulingDatabase = await migrateScheduling();
  const subgraphRequests = new Map<string, number>();
  const proxies: Server[] = [];
  const identityOverrides: Record<string, string> = {};
  if (options.events) {
    const identityDatabase = await migratedTestDatabase();
    await discardPendingOutbox(identityDatabase.adminUrl);
    identityOverrides.HMS_OUTBOX_RELAY_DATABASE_URL = relayUrl(identityDatabase.appUrl, 'identity');
    identityOverrides.HMS_KAFKA_BROKERS = kafkaBrokers.join(',');
  }
  const identity = await startTestIdentity(identityOverrides);
  const jwksUrl = `${identity.identity.origin}/.well-known/jwks.json`;

  let clinical: RunningClinical | undefined;
  let scheduling: RunningScheduling | undefined;
  let audit: RunningAudit | undefined;
  let gateway: RunningGateway | undefined;
  try {
    if (options.events) {
      const auditDatabase = await migrateAudit();
      const auditGroup = e2eAuditGroup();
      await commitTopicEnd(kafkaBrokers, auditGroup, AUDIT_TOPIC);
      audit = await startAudit(
        {
          HMS_ENV: 'test',
          HMS_REDIS_URL: REDIS_URL,
          HMS_JWKS_URL: jwksUrl,
          HMS_JWT_ISSUER: TEST_ISSUER,
          HMS_JWT_AUDIENCE: TEST_AUDIENCE,
          HMS_DATABASE_URL: auditDatabase.appUrl,
          HMS_PORT: 0,
          HMS_KAFKA_BROKERS: kafkaBrokers,
        },
        { host: '127.0.0.1', logger, consumer: { groupId: auditGroup, fromBeginning: true } },
      );
      await waitForAuditConsumer(audit);
    }

    // Consumer groups of this run only. The end of each topic is committed for them first, so they read
    // every event this run publishes even while they are still joining, and none of the history. A
    // group name that differs from the services' falls back to the newest events at its first fetch.
    const clinicalSuffix = randomBytes(6).toString('hex');
    const schedulingSuffix = randomBytes(6).toString('hex');
    if (options.events) {
      const groups: Array<[groupId: string, topic: string]> = [
        [`${CLINICAL_TENANT_SETTINGS_GROUP}-${clinicalSuffix}`, IDENTITY_EVENTS_TOPIC],
        [`${CLINICAL_USERS_GROUP}-${clinicalSuffix}`, IDENTITY_EVENTS_TOPIC],
        [`${SCHEDULING_TENANT_SETTINGS_GROUP}-${schedulingSuffix}`, IDENTITY_EVENTS_TOPIC],
        [`hms-scheduling-identity-${schedulingSuffix}`, IDENTITY_EVENTS_TOPIC],
        [`hms-scheduling-patients-${schedulingSuffix}`, CLINICAL_EVENTS_TOPIC],
      ];
      for (const [groupId, topic] of groups) await commitTopicEnd(kafkaBrokers, groupId, topic);
    }

    clinical = await startClinical(
      {
        HMS_ENV: 'test',
        HMS_REDIS_URL: REDIS_URL,
        HMS_JWKS_URL: jwksUrl,
        HMS_JWT_ISSUER: TEST_ISSUER,
        HMS_JWT_AUDIENCE: TEST_AUDIENCE,
        HMS_DATABASE_URL: clinicalDatabase.appUrl,
        HMS_PORT: 0,
        ...(options.events
          ? {
              HMS_OUTBOX_RELAY_DATABASE_URL: relayUrl(clinicalDatabase.appUrl, 'clinical'),
              HMS_KAFKA_BROKERS: kafkaBrokers,
            }
          : {}),
      },
      // As scheduling's below: groups of this run only, starting at the offsets committed above.
      {
        host: '127.0.0.1',
        logger,
        onQuery: options.clinicalOnQuery,
        consumers: options.events ? { groupSuffix: clinicalSuffix, fromBeginning: false } : undefined,
      },
    );

    scheduling = await startScheduling(
      {
        HMS_ENV: 'test',
        HMS_REDIS_URL: REDIS_URL,
        HMS_JWKS_URL: jwksUrl,
        HMS_JWT_ISSUER: TEST_ISSUER,
        HMS_JWT_AUDIENCE: TEST_AUDIENCE,
        HMS_DATABASE_URL: schedulingDatabase.appUrl,
        HMS_PORT: 0,
        ...(options.events
          ? {
              HMS_OUTBOX_RELAY_DATABASE_URL: relayUrl(schedulingDatabase.appUrl, 'scheduling'),
              HMS_KAFKA_BROKERS: kafkaBrokers,
            }
          : {}),
      },
      // Without the event pipeline tests feed the copies themselves. With it, the consumers start at
      // the offsets committed above in groups of their own, so they skip the shared topics' history.
      {
        host: '127.0.0.1',
        logger,
        consumers: options.events ? { groupSuffix: schedulingSuffix, fromBeginning: false } : false,
      },
    );

    const subgraphs = [
      { name: 'identity', url: identity.identity.url },
      { name: 'clinical', url: clinical.url },
      { name: 'scheduling', url: scheduling.url },
      ...(audit ? [{ name: 'audit', url: audit.url }] : []),
    ];
    const counted = [];
    for (const subgraph of subgraphs) {
      const proxy = await startCountingProxy(subgraph.name, subgraph.url, subgraphRequests);
      proxies.push(proxy.server);
      counted.push({ name: subgraph.name, url: proxy.url });
    }

    gateway = await startGateway(
      {
        environment: 'test',
        host: '127.0.0.1',
        port: 0,
        redisUrl: REDIS_URL,
        jwt: { jwksUrl, issuer: TEST_ISSUER, audience: TEST_AUDIENCE },
        identityInternalUrl: identity.identity.origin,
        supergraph: { file: SUPERGRAPH_FILE },
        subgraphs: counted,
        trustProxy: false,
        limits: DEFAULT_QUERY_LIMITS,
        // Every test signs in from 127.0.0.1; the production login limit would throttle the suite.
        rateLimits: {
          ...DEFAULT_RATE_LIMITS,
          loginPerIp: 10_000,
          anonymousPerIp: 10_000,
          ...options.rateLimits,
        },
        tenantStatusCacheSeconds: 300,
        logLevel: 'silent',
      },
      { logger },
    );
  } catch (error) {
    for (const proxy of proxies) proxy.close();
    await scheduling?.stop();
    await clinical?.stop();
    await audit?.stop();
    await identity.stop();
    throw error;
  }

  const runningGateway = gateway;
  const runningClinical = clinical;
  const runningScheduling = scheduling;
  const runningAudit = audit;
  const post =
    (url: string) =>
    async (
      query: string,
      variables: Record<string, unknown> = {},
      token?: string,
      headers: Record<string, string> = {},
    ) =>
      postGraphQL(url, query, variables, {
        ...headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      }) as never;

  return {
    gatewayUrl: runningGateway.url,
    clinicalUrl: runningClinical.url,
    schedulingUrl: runningScheduling.url,
    scheduling: runningScheduling,
    schedulingDatabase,
    clinicalDatabase,
    subgraphRequests,
    identity,
    audit: runningAudit,
    gateway: post(runningGateway.url),
    clinical: post(runningClinical.url),
    stop: async () => {
      await runningGateway.stop();
      for (const proxy of proxies) proxy.close();
      await runningScheduling.stop();
      await runningClinical.stop();
      await runningAudit?.stop();
      await identity.stop();
    },
  };
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}
