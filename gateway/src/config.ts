import { env, loadConfig } from '@hms/service-kit/config';
import { z } from 'zod';
import {
  readSubgraphList,
  subgraphUrlVariable,
  SUPERGRAPH_FILE,
  type SubgraphEndpoint,
} from './subgraphs.js';

export type Environment = 'development' | 'test' | 'production';

/** Static query limits, applied before a query reaches any subgraph. */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  /** Lexical tokens of the query document; bounds parse work before anything else runs. */
  maxTokens: number;
  /**
   * graphql-armor cost: a scalar costs 1, an object 2 plus 1.5 times its children, and a literal
   * `first` / `last` multiplies its field. 50 patients with 10 appointments each cost about 34000.
   */
  maxCost: number;
  maxDirectives: number;
  /** Largest `first` / `last` argument on any field. */
  maxPageSize: number;
}

/** Fixed-window request limits, counted in Redis so that every gateway replica shares them. */
export interface RateLimits {
  windowSeconds: number;
  /** Requests per user (or service account, or platform operator) per window. */
  perUser: number;
  /** Requests per tenant per window, all its users together. */
  perTenant: number;
  /** Anonymous requests per client IP per window. */
  anonymousPerIp: number;
  /** Anonymous `login` requests per client IP per window; kept low against password guessing. */
  loginPerIp: number;
}

export interface GatewayConfig {
  environment: Environment;
  /** Interface to listen on; tests use 127.0.0.1. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  redisUrl: string;
  jwt: { jwksUrl: string; issuer: string; audience: string };
  /** Base URL of identity's internal API, asked for a tenant's status when Redis does not know it. */
  identityInternalUrl: string;
  /**
   * Source of the supergraph: `sdl` (tests), else `file`. `devIntrospect` composes from the running
   * subgraphs instead and is rejected in production.
   */
  supergraph: { sdl?: string; file?: string; devIntrospect?: boolean };
  /** Subgraph endpoints; a URL here replaces the one recorded in the supergraph. Also probed by /readyz. */
  subgraphs: SubgraphEndpoint[];
  /** Express `trust proxy` setting; decides which address counts as the client IP. */
  trustProxy: boolean | number | string;
  limits: QueryLimits;
  rateLimits: RateLimits;
  /** How long a tenant status learnt from identity stays cached in Redis. */
  tenantStatusCacheSeconds: number;
  logLevel: string;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: 50000,
  maxDirectives: 20,
  maxPageSize: 100,
};

export const DEFAULT_RATE_LIMITS: RateLimits = {
  windowSeconds: 60,
  perUser: 600,
  perTenant: 6000,
  anonymousPerIp: 120,
  loginPerIp: 10,
};

const int = (fallback: number) => env.positiveInt().default(fallback);

const gatewayEnvShape = {
  HMS_ENV: env.environment(),
  HMS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HMS_GATEWAY_HOST: env.string().default('0.0.0.0'),
  HMS_GATEWAY_PORT: env.port().default(4000),
  HMS_REDIS_URL: env.url('the Redis server (redis://host:port)'),
  HMS_JWKS_URL: env.url("identity's JWKS endpoint"),
  HMS_JWT_ISSUER: env.string(),
  HMS_JWT_AUDIENCE: env.string(),
  HMS_IDENTITY_INTERNAL_URL: env.url("identity's internal base URL (http://host:port)"),
  HMS_GATEWAY_DEV_INTROSPECT: env.bool().default(false),
  HMS_GATEWAY_SUPERGRAPH_FILE: env.string().optional(),
  HMS_GATEWAY_TRUST_PROXY: env.string().optional(),
  HMS_GATEWAY_MAX_DEPTH: int(DEFAULT_QUERY_LIMITS.maxDepth),
  HMS_GATEWAY_MAX_ALIASES: int(DEFAULT_QUERY_LIMITS.maxAliases),
  HMS_GATEWAY_MAX_TOKENS: int(DEFAULT_QUERY_LIMITS.maxTokens),
  HMS_GATEWAY_MAX_COST: int(DEFAULT_QUERY_LIMITS.maxCost),
  HMS_GATEWAY_MAX_DIRECTIVES: int(DEFAULT_QUERY_LIMITS.maxDirectives),
  HMS_GATEWAY_MAX_PAGE_SIZE: int(DEFAULT_QUERY_LIMITS.maxPageSize),
  HMS_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: int(DEFAULT_RATE_LIMITS.windowSeconds),
  HMS_GATEWAY_RATE_LIMIT_PER_USER: int(DEFAULT_RATE_LIMITS.perUser),
  HMS_GATEWAY_RATE_LIMIT_PER_TENANT: int(DEFAULT_RATE_LIMITS.perTenant),
  HMS_GATEWAY_RATE_LIMIT_ANONYMOUS_PER_IP: int(DEFAULT_RATE_LIMITS.anonymousPerIp),
  HMS_GATEWAY_RATE_LIMIT_LOGIN_PER_IP: int(DEFAULT_RATE_LIMITS.loginPerIp),
  HMS_GATEWAY_TENANT_STATUS_CACHE_SECONDS: int(300),
};

/**
 * Builds the gateway configuration from environment variables. The subgraphs come from
 * `gateway/subgraphs.json`, and `HMS_SUBGRAPH_<NAME>_URL` replaces the URL of one of them. Those
 * variables are validated together with the rest, so a deployment gets every problem reported at once.
 */
export function loadGatewayConfig(
  source: NodeJS.ProcessEnv = process.env,
  subgraphs: SubgraphEndpoint[] = readSubgraphList(),
): GatewayConfig {
  const overrideShape: Record<string, z.ZodOptional<ReturnType<typeof env.url>>> = {};
  for (const subgraph of subgraphs) {
    overrideShape[subgraphUrlVariable(subgraph.name)] = env
      .url(`the ${subgraph.name} subgraph's GraphQL endpoint`)
      .optional();
  }
  const values = loadConfig({ ...gatewayEnvShape, ...overrideShape }, source);

  if (values.HMS_ENV === 'production' && values.HMS_GATEWAY_DEV_INTROSPECT) {
    throw new Error(
      'HMS_GATEWAY_DEV_INTROSPECT=true is not allowed when HMS_ENV=production; unset it to serve the committed supergraph.',
    );
  }

  const overrides = values as Record<string, unknown>;
  return {
    environment: values.HMS_ENV,
    logLevel: values.HMS_LOG_LEVEL,
    host: values.HMS_GATEWAY_HOST,
    port: values.HMS_GATEWAY_PORT,
    redisUrl: values.HMS_REDIS_URL,
    jwt: { jwksUrl: values.HMS_JWKS_URL, issuer: values.HMS_JWT_ISSUER, audience: values.HMS_JWT_AUDIENCE },
    identityInternalUrl: values.HMS_IDENTITY_INTERNAL_URL,
    supergraph: {
      file: values.HMS_GATEWAY_SUPERGRAPH_FILE ?? SUPERGRAPH_FILE,
      devIntrospect: values.HMS_GATEWAY_DEV_INTROSPECT,
    },
    subgraphs: subgraphs.map((subgraph) => {
      const override = overrides[subgraphUrlVariable(subgraph.name)];
      return { name: subgraph.name, url: typeof override === 'string' ? override : subgraph.url };
    }),
    trustProxy: parseTrustProxy(values.HMS_GATEWAY_TRUST_PROXY),
    limits: {
      maxDepth: values.HMS_GATEWAY_MAX_DEPTH,
      maxAliases: values.HMS_GATEWAY_MAX_ALIASES,
      maxTokens: values.HMS_GATEWAY_MAX_TOKENS,
      maxCost: values.HMS_GATEWAY_MAX_COST,
      maxDirectives: values.HMS_GATEWAY_MAX_DIRECTIVES,
      maxPageSize: values.HMS_GATEWAY_MAX_PAGE_SIZE,
    },
    rateLimits: {
      windowSeconds: values.HMS_GATEWAY_RATE_LIMIT_WINDOW_SECONDS,
      perUser: values.HMS_GATEWAY_RATE_LIMIT_PER_USER,
      perTenant: values.HMS_GATEWAY_RATE_LIMIT_PER_TENANT,
      anonymousPerIp: values.HMS_GATEWAY_RATE_LIMIT_ANONYMOUS_PER_IP,
      loginPerIp: values.HMS_GATEWAY_RATE_LIMIT_LOGIN_PER_IP,
    },
    tenantStatusCacheSeconds: values.HMS_GATEWAY_TENANT_STATUS_CACHE_SECONDS,
  };
}

/**
 * `HMS_GATEWAY_TRUST_PROXY` takes what Express's `trust proxy` takes: `true`, a hop count, or a list of
 * addresses/subnets such as `loopback, 10.0.0.0/8`. Unset means the socket's peer is the client, so a
 * client cannot choose its own rate-limit bucket with `X-Forwarded-For`.
 */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
