import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApolloGateway,
  IntrospectAndCompose,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from '@apollo/gateway';
import {
  ApolloServer,
  type ApolloServerPlugin,
  type GraphQLRequestContextWillSendResponse,
} from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { runWithContext } from '@hms/service-kit/context';
import { ErrorCode, HmsError } from '@hms/service-kit/errors';
import { createTokenVerifier, type TokenVerifier } from '@hms/service-kit/auth/tokens';
import { createLogger, type Logger } from '@hms/service-kit/logger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { getOperationAST, GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { Authenticator } from './auth.js';
import type { GatewayConfig } from './config.js';
import type { GatewayContext, RequestMetadata } from './context.js';
import { createErrorFormatter, withHttpStatus } from './errors.js';
import { checkReadiness } from './health.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { isAnonymousOperation, rootFieldNames } from './operation.js';
import {
  armorValidationRules,
  maxPageSizeRule,
  pageSizeError,
  pageSizeVariableViolations,
  parseOptions,
} from './query-limits.js';
import { RateLimiter } from './rate-limit.js';
import {
  activeSpanTraceContext,
  incomingTraceContext,
  normalizeIp,
  requestIdFrom,
  stripInternalHeaders,
  userAgentFrom,
} from './request-metadata.js';
import { TenantStatusLookup } from './tenant-status.js';

/** Request bodies larger than this are rejected before parsing, because typical operations are a few kilobytes. */
const MAX_BODY = '256kb';

export interface RunningGateway {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** Replaces the remote JWKS verifier, for callers that hold the keys themselves. */
  verifyToken?: TokenVerifier;
}

/**
 * Sends subgraph requests with the caller's verified token and the request's trace and client
 * metadata. Nothing from the client's own headers is copied, so a client cannot reach a subgraph with
 * headers the gateway did not set.
 */
class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly subgraph: string,
    private readonly metrics: GatewayMetrics,
    private readonly logger?: Logger,
  ) {
    super({ url });
  }

  /**
   * Creates the error for a subgraph response with a non-2xx status. The base class puts the
   * subgraph URL and its whole response body into the error's extensions, which a client would see
   * outside production. Those go to the log here, and the client gets the status alone.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]) {
    const body: unknown = await this.parseBody(response).catch(() => undefined);
    this.logger?.error(
      { subgraph: this.subgraph, url: response.url, status: response.status, body },
      'A subgraph responded with a non-2xx HTTP status.',
    );
    const code =
      response.status === 401
        ? ErrorCode.UNAUTHENTICATED
        : response.status === 403
          ? ErrorCode.FORBIDDEN
          : ErrorCode.INTERNAL_SERVER_ERROR;
    return new GraphQLError(`The ${this.subgraph} service failed with HTTP ${response.status}.`, {
      extensions: { code },
    });
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Only client operations carry a request context; health checks and schema loading send nothing extra.
    // (The request-kind enum is not exported by @apollo/gateway, hence the property test.)
    if (!('incomingRequestContext' in options)) return;
    const headers = options.request.http?.headers;
    if (!headers) return;
    const { request, access } = options.context;
    if (access === 'authenticated' && request.authorization)
      headers.set('authorization', request.authorization);
    // A span active here (OpenTelemetry set up) is the closest parent; otherwise the request's trace context.
    const trace = activeSpanTraceContext() ?? request.trace;
    headers.set('traceparent', trace.traceparent);
    if (trace.tracestate) headers.set('tracestate', trace.tracestate);
    headers.set('x-request-id', request.requestId);
    headers.set('x-hms-client-ip', request.clientIp);
    if (request.userAgent) headers.set('x-hms-user-agent', request.userAgent);
  }

  override didReceiveResponse(
    ...[{ response }]: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>
  ) {
    this.metrics.subgraphRequests.inc({
      subgraph: this.subgraph,
      status: String(response.http?.status ?? 200),
    });
    return response;
  }

  override didEncounterError(
    ...args: Parameters<RemoteGraphQLDataSource<GatewayContext>['didEncounterError']>
  ): void {
    this.metrics.subgraphRequests.inc({ subgraph: this.subgraph, status: String(args[2]?.status ?? 0) });
    super.didEncounterError(...args);
  }
}

/**
 * Builds the gateway: Express app, Apollo Gateway on the supergraph, Apollo Server and Redis client.
 * Nothing listens or connects until `start()`.
 */
export function createGateway(config: GatewayConfig, options: GatewayOptions = {}) {
  const production = config.environment === 'production';
  const logger = options.logger ?? createLogger('gateway', config.logLevel);
  const metrics = createMetrics();

  // Commands fail fast while Redis is unreachable instead of queueing, because a request waiting on
  // an unreachable Redis gains nothing and the auth checks fail closed anyway.
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
  });
  redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));

  const verifyToken =
    options.verifyToken ??
    createTokenVerifier({
      jwksUrl: config.jwt.jwksUrl,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
  const tenantStatus = new TenantStatusLookup(
    redis,
    config.identityInternalUrl,
    config.tenantStatusCacheSeconds,
    logger,
  );
  const authenticator = new Authenticator(verifyToken, redis, tenantStatus, logger);
  const rateLimiter = new RateLimiter(redis, config.rateLimits);

  const urlOverrides = new Map(config.subgraphs.map((subgraph) => [subgraph.name, subgraph.url]));
  const gateway = new ApolloGateway({
    logger,
    ...supergraphSource(config),
    buildService: ({ name, url }) =>
      new SubgraphDataSource(urlOverrides.get(name) ?? url ?? '', name, metrics, logger),
  });

  const app = express();
  const httpServer: Server = createServer(app);

  const server = new ApolloServer<GatewayContext>({
    gateway,
    logger,
    nodeEnv: config.environment,
    // main.ts handles SIGTERM (stop, then close Redis); Apollo Server's own handler would re-raise the
    // signal after stopping and end the process before Redis is closed.
    stopOnTerminationSignals: false,
    introspection: !production,
    includeStacktraceInErrorResponses: !production,
    hideSchemaDetailsFromClientErrors: production,
    // One HTTP request, one operation: batching would multiply the work behind a single rate-limit count.
    allowBatchedHttpRequests: false,
    // Requires a JSON content type or a custom header on every request, so a browser cannot send an
    // operation cross-site without a CORS preflight; GET mutations are rejected by Apollo Server itself.
    csrfPrevention: true,
    parseOptions: parseOptions(config.limits),
    // The page-size rule goes first: when a large `first` also breaks the cost limit, its error shows what to change.
    validationRules: [maxPageSizeRule(config.limits.maxPageSize), ...armorValidationRules(config.limits)],
    formatError: createErrorFormatter({ production, logger }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      config.environment === 'development'
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true })
        : ApolloServerPluginLandingPageDisabled(),
      accessPlugin(),
    ],
  });

  /**
   * Admits or rejects each operation once it is parsed and validated. Operations made only of
   * allow-listed root fields run anonymously, rate-limited per client IP. For them the Authorization
   * header is neither checked nor forwarded, so a stale token cannot block signing in again. Every
   * other operation needs a valid token, an active tenant and a live session.
   */
  function accessPlugin(): ApolloServerPlugin<GatewayContext> {
    return {
      async requestDidStart() {
        const started = process.hrtime.bigint();
        return {
          async didResolveOperation({ document, operation, request, contextValue }) {
            if (!operation) return;
            const rootFields = rootFieldNames(document, operation);
            if (isAnonymousOperation(rootFields)) {
              contextValue.access = 'anonymous';
              await rateLimiter.checkAnonymous(contextValue.request.clientIp, rootFields.has('login'));
            } else {
              const principal = await authenticator.authenticate(contextValue.request.authorization);
              contextValue.access = 'authenticated';
              contextValue.principal = principal;
              Object.assign(contextValue.logContext, {
                tenantId: principal.tenantId,
                userId: principal.subject,
                sessionId: principal.sessionId,
              });
              await rateLimiter.checkPrincipal(principal);
            }
            const violations = pageSizeVariableViolations(
              document,
              operation,
              request.variables,
              config.limits.maxPageSize,
            );
            if (violations.length > 0) throw withHttpStatus(pageSizeError(violations), 400);
          },
          async willSendResponse(requestContext) {
            if (requestContext.contextValue.access === undefined) await concealFromStrangers(requestContext);
            record(requestContext, started);
          },
        };
      },
    };
  }

  /**
   * Replaces the errors of a request that failed before its operation was resolved (validation
   * errors, GET mutations) when the caller is not signed in, because no access decision was made.
   * Validation errors name types and fields, so only signed-in callers and allow-listed operations get
   * them; anyone else gets UNAUTHENTICATED. Syntax errors reveal nothing about the schema and stay.
   */
  async function concealFromStrangers(requestContext: GraphQLRequestContextWillSendResponse<GatewayContext>) {
    const { document, contextValue, request, response } = requestContext;
    if (!document) return;
    const operation = getOperationAST(document, request.operationName ?? undefined);
    if (operation && isAnonymousOperation(rootFieldNames(document, operation))) return;
    try {
      await authenticator.authenticate(contextValue.request.authorization);
    } catch (error) {
      if (!(error instanceof GraphQLError))
        logger.error({ err: error }, 'Authentication failed unexpectedly');
      const rejection =
        error instanceof GraphQLError ? error : withHttpStatus(HmsError.unauthenticated(), 401);
      const http = rejection.extensions.http as { status?: number } | undefined;
      const { http: _http, ...extensions } = rejection.extensions;
      response.body = {
        kind: 'single',
        singleResult: { errors: [{ message: rejection.message, extensions }] },
      };
      response.http.status = http?.status ?? 401;
    }
  }

  function record(requestContext: GraphQLRequestContextWillSendResponse<GatewayContext>, started: bigint) {
    const type = requestContext.operation?.operation ?? 'unknown';
    const body = requestContext.response.body;
    const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
    const code = errors?.[0]?.extensions?.code;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    let label = 'OK';
    if (typeof code === 'string') label = code;
    else if (errors?.length) label = 'UNKNOWN';
    metrics.operations.inc({ type, code: label });
    metrics.duration.observe({ type }, seconds);
    logger.info(
      {
        operationName: requestContext.operationName ?? undefined,
        type,
        code,
        durationMs: Math.round(seconds * 1000),
      },
      'GraphQL operation answered',
    );
  }

  app.disable('x-powered-by');
  // Express reads NODE_ENV, not HMS_ENV; in development mode its error pages show stack traces.
  app.set('env', production ? 'production' : 'development');
  app.set('trust proxy', config.trustProxy);
  app.use((req, _res, next) => {
    stripInternalHeaders(req.headers);
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await checkReadiness(redis, config.subgraphs);
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  async function start(): Promise<RunningGateway> {
    try {
      await redis.connect();
      await server.start();
    } catch (error) {
      // Without this, ioredis keeps reconnecting in the background after a failed start.
      redis.disconnect();
      throw error;
    }

    app.use(
      '/graphql',
      express.json({ limit: MAX_BODY }),
      (req: Request, res: Response, next: () => void) => {
        const metadata = requestMetadata(req);
        res.setHeader('x-request-id', metadata.requestId);
        const logContext = { requestId: metadata.requestId, traceId: metadata.trace.traceId };
        res.locals.gatewayContext = { request: metadata, logContext } satisfies GatewayContext;
        // Everything after this point, Apollo Server included, logs with the request and trace ids.
        runWithContext(logContext, next);
      },
      expressMiddleware(server, {
        context: async ({ res }) => res.locals.gatewayContext as GatewayContext,
      }),
    );

    app.use(answerHttpError);

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const { port } = httpServer.address() as AddressInfo;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
    logger.info({ url }, 'Gateway listening');

    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      stop() {
        stopping ??= (async () => {
          await server.stop();
          await redis.quit().catch(() => redis.disconnect());
        })();
        return stopping;
      },
    };
  }

  return { app, start, metrics };
}

/** Creates and starts a gateway; `stop()` drains open requests, then closes Redis. */
export function startGateway(config: GatewayConfig, options?: GatewayOptions): Promise<RunningGateway> {
  return createGateway(config, options).start();
}

/**
 * Converts errors raised before Apollo Server receives the request (a body that is not JSON, or too large)
 * with a GraphQL-shaped JSON body instead of Express's HTML error page.
 */
function answerHttpError(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = (error as { status?: unknown }).status;
  const clientError = typeof status === 'number' && status >= 400 && status < 500;
  const message = !clientError
    ? 'An unexpected error occurred.'
    : status === 413
      ? `The request body is larger than ${MAX_BODY}.`
      : 'The request body is not valid JSON.';
  res.status(clientError ? status : 500).json({
    errors: [{ message, extensions: { code: clientError ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }],
  });
}

function requestMetadata(req: Request): RequestMetadata {
  const authorization = req.headers.authorization;
  const userAgent = userAgentFrom(req.headers);
  return {
    requestId: requestIdFrom(req.headers),
    clientIp: normalizeIp(req.ip ?? req.socket.remoteAddress),
    trace: incomingTraceContext(req.headers),
    ...(userAgent ? { userAgent } : {}),
    ...(authorization ? { authorization } : {}),
  };
}

function supergraphSource(config: GatewayConfig) {
  if (config.supergraph.sdl !== undefined) return { supergraphSdl: config.supergraph.sdl };
  if (config.supergraph.devIntrospect) {
    if (config.environment === 'production')
      throw new Error('Introspecting subgraphs is not allowed in production.');
    return {
      supergraphSdl: new IntrospectAndCompose({ subgraphs: config.subgraphs, pollIntervalInMs: 10_000 }),
    };
  }
  const file = config.supergraph.file;
  if (!file) throw new Error('No supergraph configured: give supergraph.sdl or supergraph.file.');
  try {
    return { supergraphSdl: readFileSync(file, 'utf8') };
  } catch (error) {
    throw new Error(
      `Cannot read the supergraph ${file} (${(error as Error).message}); run npm run supergraph.`,
    );
  }
}
