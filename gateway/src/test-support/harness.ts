/**
 * Test fixtures: two small real subgraphs, a JWKS server with an Ed25519 key, a stand-in for
 * identity's internal tenant-status API, a supergraph composed from the subgraphs, and gateways
 * started in-process against them. Everything listens on 127.0.0.1 with ephemeral ports.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expressMiddleware } from '@as-integrations/express5';
import { sessionStateKeys } from '@hms/service-kit/auth/session-state';
import express from 'express';
import { GraphQLError, parse } from 'graphql';
import { Redis } from 'ioredis';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import pino from 'pino';
import {
  DEFAULT_QUERY_LIMITS,
  DEFAULT_RATE_LIMITS,
  type GatewayConfig,
  type QueryLimits,
  type RateLimits,
} from '../config.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import { rateLimitKeys } from '../rate-limit.js';

export const REDIS_URL = process.env.HMS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ISSUER = 'https://identity.hms.test';
export const AUDIENCE = 'hms-graph';
const KID = 'test-key-1';

const IDENTITY_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
  type Query { me: User }
  type Mutation {
    login(email: String!, password: String!): Session!
    refreshSession(refreshToken: String!): Session!
  }
  type Session { accessToken: String! }
  type User @key(fields: "id") { id: ID! email: String! }
`;

const CLINICAL_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
  type Query {
    patients(first: Int, last: Int, after: String): PatientConnection!
    patient(id: ID!): Patient
    """Fails with an unexpected error whose message must never reach a production client."""
    boom: String
  }
  type Mutation { registerPatient(name: String!): Patient! }
  type PatientConnection { edges: [PatientEdge!]! totalCount: Int! }
  type PatientEdge { node: Patient! }
  type Patient @key(fields: "id") { id: ID! name: String! relatives: [Patient!]! }
`;

export const SECRET_IN_ERROR = 'password=hunter2';

/** One request as a subgraph received it. */
export interface ReceivedRequest {
  subgraph: string;
  headers: IncomingHttpHeaders;
  query: string;
}

export interface TestTenant {
  id: string;
  /** Signs a valid user token for this tenant; `claims` and `options` change single parts. */
  token(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
}

export interface SignOptions {
  key?: CryptoKey;
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch. */
  expiresAt?: number;
  issuedAt?: number;
}

export interface GraphQLCall {
  query: string;
  variables?: Record<string, unknown>;
  token?: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  /** Sent as X-Forwarded-For; the test gateways trust loopback proxies, so this is the client IP. */
  clientIp?: string;
}

export interface GraphQLAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: unknown; extensions?: Record<string, unknown> }>;
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

type Resolvers = Record<string, Record<string, unknown>>;

async function startSubgraph(name: string, sdl: string, resolvers: Resolvers, received: ReceivedRequest[]) {
  const apollo = new ApolloServer<object>({
    schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as never }),
    // Stack traces on, so the production gateway's job of removing them is actually tested.
    includeStacktraceInErrorResponses: true,
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const app = express();
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(
    '/graphql',
    express.json(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        received.push({ subgraph: name, headers: { ...req.headers }, query: String(req.body?.query ?? '') });
        return {};
      },
    }),
  );
  const server = createServer(app);
  const base = await listen(server);
  return {
    url: `${base}/graphql`,
    stop: async () => {
      await apollo.stop();
      await close(server);
    },
  };
}

export class Harness {
  readonly received: ReceivedRequest[] = [];
  /** Responses of the identity stand-in, by tenant id. Tenants not listed get 404. */
  readonly identityAnswers = new Map<string, { status: number; body?: unknown }>();
  identityCalls = 0;
  readonly redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  supergraphSdl = '';
  subgraphs: Array<{ name: string; url: string }> = [];
  identityInternalUrl = '';
  jwksUrl = '';
  signingKey!: CryptoKey;
  /** A key of the same type and kid that the JWKS does not publish: a forger's key. */
  foreignKey!: CryptoKey;

  private readonly stops: Array<() => Promise<void>> = [];
  private readonly keyPatterns = new Set<string>();
  private readonly keys = new Set<string>();

  static async start(): Promise<Harness> {
    const harness = new Harness();
    await harness.init();
    return harness;
  }

  private async init(): Promise<void> {
    await this.redis.connect();

    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    this.signingKey = privateKey;
    this.foreignKey = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: KID, alg: 'EdDSA', use: 'sig' };

    // One server plays identity's non-GraphQL side: the JWKS and the internal tenant-status API.
    const identityHttp = express();
    identityHttp.get('/.well-known/jwks.json', (_req, res) => {
      res.json({ keys: [jwk] });
    });
    identityHttp.get('/internal/tenants/:tenantId/status', (req, res) => {
      this.identityCalls += 1;
      const answer = this.identityAnswers.get(req.params.tenantId);
      if (!answer) {
        res.status(404).json({ error: 'unknown tenant' });
        return;
      }
      res.status(answer.status).json(answer.body ?? {});
    });
    const identityServer = createServer(identityHttp);
    const identityBase = await listen(identityServer);
    this.stops.push(() => close(identityServer));
    this.jwksUrl = `${identityBase}/.well-known/jwks.json`;
    this.identityInternalUrl = identityBase;

    const identity = await startSubgraph(
      'identity',
      IDENTITY_SDL,
      {
        Query: { me: () => ({ id: 'user-1', email: 'doctor@example.test' }) },
        Mutation: {
          login: () => ({ accessToken: 'issued-by-identity' }),
          refreshSession: () => ({ accessToken: 'refreshed-by-identity' }),
        },
        User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, email: 'doctor@example.test' }) },
      },
      this.received,
    );
    const clinical = await startSubgraph(
      'clinical',
      CLINICAL_SDL,
      {
        Query: {
          patients: () => ({ edges: [{ node: { id: 'patient-1', name: 'Asha Rao' } }], totalCount: 1 }),
          patient: (_: unknown, args: { id: string }) => {
            if (args.id === 'missing') {
              throw new GraphQLError('Patient missing was not found.', { extensions: { code: 'NOT_FOUND' } });
            }
            return { id: args.id, name: 'Asha Rao' };
          },
          boom: () => {
            throw new Error(`connection to db-7 failed: ${SECRET_IN_ERROR}`);
          },
        },
        Mutation: {
          registerPatient: (_: unknown, args: { name: string }) => ({ id: 'patient-2', name: args.name }),
        },
        Patient: { relatives: () => [] },
      },
      this.received,
    );
    this.stops.push(identity.stop, clinical.stop);
    this.subgraphs = [
      { name: 'identity', url: identity.url },
      { name: 'clinical', url: clinical.url },
    ];

    const composed = composeServices(
      this.subgraphs.map((subgraph) => ({
        ...subgraph,
        typeDefs: parse(subgraph.name === 'identity' ? IDENTITY_SDL : CLINICAL_SDL),
      })),
    );
    if (composed.errors) throw new Error(`Test supergraph does not compose: ${composed.errors.join('; ')}`);
    this.supergraphSdl = composed.supergraphSdl;
  }

  /** A gateway configuration for these fixtures; limits are the defaults unless overridden. */
  config(
    overrides: Partial<Omit<GatewayConfig, 'limits' | 'rateLimits'>> & {
      limits?: Partial<QueryLimits>;
      rateLimits?: Partial<RateLimits>;
    } = {},
  ): GatewayConfig {
    const { limits, rateLimits, ...rest } = overrides;
    return {
      environment: 'test',
      host: '127.0.0.1',
      port: 0,
      redisUrl: REDIS_URL,
      jwt: { jwksUrl: this.jwksUrl, issuer: ISSUER, audience: AUDIENCE },
      identityInternalUrl: this.identityInternalUrl,
      supergraph: { sdl: this.supergraphSdl },
      subgraphs: this.subgraphs,
      trustProxy: 'loopback',
      limits: { ...DEFAULT_QUERY_LIMITS, ...limits },
      rateLimits: { ...DEFAULT_RATE_LIMITS, ...rateLimits },
      tenantStatusCacheSeconds: 300,
      logLevel: 'silent',
      ...rest,
    };
  }

  async startGateway(overrides: Parameters<Harness['config']>[0] = {}): Promise<RunningGateway> {
    const gateway = await startGateway(this.config(overrides), { logger: pino({ level: 'silent' }) });
    this.stops.push(() => gateway.stop());
    return gateway;
  }

  /** Creates a tenant with a random id, so its Redis keys never collide with another test's keys. */
  async newTenant(status: 'active' | 'suspended' | 'offboarded' | null = 'active'): Promise<TestTenant> {
    const id = randomUUID();
    this.keyPatterns.add(`${id}:*`);
    if (status) await this.redis.set(sessionStateKeys.tenantStatus(id), status);
    return {
      id,
      token: (claims = {}, options = {}) => this.sign({ typ: 'user', tid: id, ...claims }, options),
    };
  }

  /** Returns a random client address from the IPv6 documentation range and marks its rate-limit keys for removal. */
  newClientIp(): string {
    const ip = `2001:db8::${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
    this.keys.add(rateLimitKeys.anonymousIp(ip));
    this.keys.add(rateLimitKeys.loginIp(ip));
    return ip;
  }

  /** Signs a platform operator token; its rate-limit key is marked for removal. */
  async platformToken(claims: Record<string, unknown> = {}): Promise<string> {
    const sub = `operator-${randomUUID()}`;
    this.keys.add(rateLimitKeys.platformUser(sub));
    return this.sign({ typ: 'platform', sub, ...claims });
  }

  /** Marks a Redis key that a test created outside a tenant (platform sessions) for removal. */
  trackKey(key: string): void {
    this.keys.add(key);
  }

  async sign(claims: Record<string, unknown>, options: SignOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload = { sid: randomUUID(), roles: ['doctor'], perms: ['patient:read'], ...claims };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: KID, typ: 'JWT' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject(typeof claims.sub === 'string' ? claims.sub : `user-${randomUUID()}`)
      .setIssuedAt(options.issuedAt ?? now)
      .setExpirationTime(options.expiresAt ?? now + 300)
      .setJti(randomUUID())
      .sign(options.key ?? this.signingKey);
  }

  /** Deletes every Redis key the tests of this harness created. */
  async cleanKeys(): Promise<void> {
    for (const pattern of this.keyPatterns) {
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        if (found.length > 0) await this.redis.del(...found);
        cursor = next;
      } while (cursor !== '0');
    }
    if (this.keys.size > 0) await this.redis.del(...this.keys);
    this.keyPatterns.clear();
    this.keys.clear();
  }

  async close(): Promise<void> {
    await this.cleanKeys();
    for (const stop of this.stops.reverse()) await stop();
    await this.redis.quit();
  }

  /** Requests the subgraphs received for the request sent with this `x-request-id`. */
  receivedFor(requestId: string): ReceivedRequest[] {
    return this.received.filter((request) => request.headers['x-request-id'] === requestId);
  }
}

/** Sends one GraphQL operation to a gateway. */
export async function call(url: string, request: GraphQLCall): Promise<GraphQLAnswer> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.clientIp) headers['x-forwarded-for'] = request.clientIp;
  let response: Response;
  if (request.method === 'GET') {
    const target = new URL(url);
    target.searchParams.set('query', request.query);
    if (request.variables) target.searchParams.set('variables', JSON.stringify(request.variables));
    response = await fetch(target, { headers });
  } else {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: request.query, variables: request.variables }),
    });
  }
  const text = await response.text();
  let body: GraphQLAnswer['body'];
  try {
    body = JSON.parse(text) as GraphQLAnswer['body'];
  } catch {
    throw new Error(
      `Gateway responded with HTTP ${response.status} and a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  return { status: response.status, headers: response.headers, body };
}

/** Returns the `extensions.code` of the first error, for compact assertions. */
export function firstCode(answer: GraphQLAnswer): unknown {
  return answer.body.errors?.[0]?.extensions?.code;
}
