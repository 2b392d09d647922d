import { AUDIT_TOPIC, IDENTITY_EVENTS_TOPIC } from '@hms/proto-schemas';
import {
  createEventBus,
  createLogger,
  createOrm,
  createRedis,
  createTokenVerifier,
  HmsError,
  isSessionRevoked,
  readTenantStatus,
  startOutboxRelay,
  startSubgraphServer,
  TokenRejectedError,
  type EventBus,
  type Logger,
  type OutboxRelay,
  type TokenVerifier,
} from '@hms/service-kit';
import type { ReadinessChecks } from '@hms/service-kit/http/health';
import type { Redis } from 'ioredis';
import type { IdentityConfig } from './config.js';
import type { IdentityDeps } from './deps.js';
import { identityEntities } from './entities/index.js';
import { buildResolvers } from './graphql/resolvers.js';
import { loadTypeDefs } from './graphql/type-defs.js';
import { mountJwksRoute } from './keys/jwks-route.js';
import { KeyRing } from './keys/key-ring.js';
import { RoleService } from './roles/role-service.js';
import type { IdentityServices } from './services.js';
import { AccessTokenSigner } from './sessions/access-tokens.js';
import { LoginService } from './sessions/login.js';
import { SessionService } from './sessions/session-service.js';
import { mountTenantStatusRoute } from './tenants/status-route.js';
import { publishAllTenantStatuses, TENANT_STATUS_REPUBLISH_MS } from './tenants/tenant-status.js';
import { TenantService } from './tenants/tenant-service.js';
import { PasswordHasher } from './users/passwords.js';
import { UserService } from './users/user-service.js';

export interface RunningIdentity {
  /** The GraphQL endpoint. */
  url: string;
  /** The HTTP origin, where /.well-known/jwks.json and /internal/ are served. */
  origin: string;
  services: IdentityServices;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Overrides HMS_PORT; tests pass 0 for a free port. */
  port?: number;
  host?: string;
  logger?: Logger;
}

/**
 * Creates the token verifier of identity, which reads its own key table instead of fetching its own
 * JWKS over HTTP. The keys and their retirement window are the ones the JWKS publishes, and identity
 * needs no route to itself, nor its own port, before it can serve.
 *
 * Beyond the kit's checks it rejects tokens of revoked sessions and of tenants that are not active.
 * Other subgraphs leave those checks to the gateway, but identity manages sessions, so a revoked
 * session must not reach changePassword even when identity is called directly.
 */
function identityTokenVerifier(config: IdentityConfig, keys: KeyRing, redis: Redis): TokenVerifier {
  const verify = createTokenVerifier({
    jwksUrl: 'urn:hms:identity:signing-keys-table',
    keySet: keys.keySet(),
    issuer: config.HMS_JWT_ISSUER,
    audience: config.HMS_JWT_AUDIENCE,
  });
  return async (token) => {
    const claims = await verify(token);
    const [revoked, tenantStatus] = await Promise.all([
      isSessionRevoked(redis, claims.tid, claims.sid),
      claims.tid ? readTenantStatus(redis, claims.tid) : Promise.resolve(undefined),
    ]);
    if (revoked) throw new TokenRejectedError('session revoked');
    if (tenantStatus && tenantStatus !== 'active') throw HmsError.tenantSuspended(tenantStatus);
    return claims;
  };
}

/** Starts the identity subgraph with its routes, keys and Redis state. main.ts and the tests call it. */
export async function startIdentity(
  config: IdentityConfig,
  options: StartOptions = {},
): Promise<RunningIdentity> {
  const logger = options.logger ?? createLogger('identity');
  const production = config.HMS_ENV === 'production';

  // Step 1: connections. The ORM runs as the app role, under row-level security.
  const orm = await createOrm({
    clientUrl: config.HMS_DATABASE_URL,
    schema: 'identity',
    entities: identityEntities,
    logger,
  });
  const redis = createRedis(config.HMS_REDIS_URL, logger);
  const readiness: ReadinessChecks = {
    postgresql: () => orm.em.getConnection().execute('select 1'),
    redis: () => redis.ping(),
  };

  // The outbox relay runs in-process when configured. Without it writes still succeed, and their
  // events wait in the outbox for a relay.
  let bus: EventBus | undefined;
  let relay: OutboxRelay | undefined;
  if (config.HMS_OUTBOX_RELAY_DATABASE_URL && config.HMS_KAFKA_BROKERS?.length) {
    const kafka = createEventBus({ brokers: config.HMS_KAFKA_BROKERS, clientId: 'identity', logger });
    bus = kafka;
    relay = startOutboxRelay({
      databaseUrl: config.HMS_OUTBOX_RELAY_DATABASE_URL,
      schema: 'identity',
      bus: kafka,
      logger,
    });
    readiness.kafka = () => kafka.ensureTopics([IDENTITY_EVENTS_TOPIC, AUDIT_TOPIC]);
  }
  const stopConnections = async () => {
    await relay?.stop();
    await bus?.disconnect();
    await orm.close();
    redis.disconnect();
  };

  try {
    // Step 2: a signing key must exist before the first sign-in, and the encryption key must open it.
    const keys = new KeyRing(
      orm,
      config.HMS_IDENTITY_KEY_ENCRYPTION_KEY,
      config.HMS_ACCESS_TOKEN_TTL_SECONDS,
      logger,
    );
    await keys.ensureActiveKey();

    // Step 3: the gateway reads tenant status from Redis on every request, and Redis may have lost
    // every key because it keeps nothing on disk. Statuses are written before serving and then every
    // few minutes.
    const deps: IdentityDeps = { orm, redis, logger, config, passwords: new PasswordHasher(), keys };
    await publishAllTenantStatuses(deps);
    const republish = setInterval(() => {
      publishAllTenantStatuses(deps).catch((error: unknown) =>
        logger.error(
          { err: error },
          'Could not republish tenant statuses to Redis; the next interval retries. Check Redis.',
        ),
      );
    }, TENANT_STATUS_REPUBLISH_MS);
    republish.unref();

    // Step 4: services, then the server.
    const signer = new AccessTokenSigner(
      keys,
      config.HMS_JWT_ISSUER,
      config.HMS_JWT_AUDIENCE,
      config.HMS_ACCESS_TOKEN_TTL_SECONDS,
    );
    const sessions = new SessionService(deps, signer);
    const services: IdentityServices = {
      deps,
      keys,
      sessions,
      tenants: new TenantService(deps),
      users: new UserService(deps, sessions),
      roles: new RoleService(deps),
      logins: new LoginService(deps, sessions),
    };
    await deps.passwords.burn('warm-up');

    const server = await startSubgraphServer({
      name: 'identity',
      port: options.port ?? config.HMS_PORT,
      host: options.host,
      typeDefs: loadTypeDefs(),
      resolvers: buildResolvers(services),
      verifyToken: identityTokenVerifier(config, keys, redis),
      logger,
      production,
      anonymousFields: ['login', 'refreshSession'],
      acceptPlatformTokens: true,
      readiness,
      routes: (app) => {
        mountJwksRoute(app, keys, logger);
        mountTenantStatusRoute(app, services.tenants, logger);
      },
    });

    return {
      url: server.url,
      origin: new URL(server.url).origin,
      services,
      stop: async () => {
        clearInterval(republish);
        await server.stop();
        await stopConnections();
      },
    };
  } catch (error) {
    await stopConnections();
    throw error;
  }
}
