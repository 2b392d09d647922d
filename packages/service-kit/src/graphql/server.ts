import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import express, { type Express } from 'express';
import {
  BREAK,
  GraphQLError,
  Kind,
  visit,
  type ASTNode,
  type DocumentNode,
  type GraphQLFormattedError,
} from 'graphql';
import type { Logger } from 'pino';
import client from 'prom-client';
import { Principal } from '../auth/claims.js';
import { withSessionChecks } from '../auth/session-checks.js';
import { bearerToken, TokenRejectedError, type TokenVerifier } from '../auth/tokens.js';
import type { Redis } from '../redis.js';
import { getRequestContext, runWithContext, type RequestContext } from '../context.js';
import { ErrorCode, HmsError } from '../errors.js';
import { mountOperationalRoutes, type ReadinessChecks } from '../http/health.js';
import { traceIdOf } from '../http/trace.js';
import { ALWAYS_ANONYMOUS_FIELDS, rootFieldNames } from './anonymous.js';
import type { SubgraphContext } from './request-context.js';

export interface SubgraphServerOptions {
  /** Service name, as in logs, metrics and the supergraph. */
  name: string;
  port: number;
  /** Interface to listen on; defaults to HMS_HOST, else every interface. */
  host?: string;
  typeDefs: DocumentNode;
  // The resolver map type of @apollo/subgraph is not exported from its entry point.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: Record<string, any>;
  verifyToken: TokenVerifier;
  logger: Logger;
  production: boolean;
  /** Root fields this subgraph serves without a token, such as `login`. */
  anonymousFields?: string[];
  /** Whether platform operator tokens, which carry no tenant, are accepted; only identity does. */
  acceptPlatformTokens?: boolean;
  readiness: ReadinessChecks;
  /**
   * Redis with identity's session state. When given, tokens of revoked sessions and of suspended
   * tenants are rejected here too, not only at the gateway, and Redis joins the readiness checks.
   */
  sessionState?: Redis;
  /** Adds service-specific HTTP routes, such as identity's JWKS. */
  routes?: (app: Express) => void;
}

export interface RunningSubgraph {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts a federated subgraph over HTTP with the HMS conventions. Every request is authenticated again,
 * because the gateway is not trusted blindly. Anonymous requests reach only `_service` and the declared
 * anonymous fields. Errors carry HMS codes, and production hides stack traces and introspection.
 */
export async function startSubgraphServer(serverOptions: SubgraphServerOptions): Promise<RunningSubgraph> {
  const sessionState = serverOptions.sessionState;
  const options: SubgraphServerOptions = sessionState
    ? {
        ...serverOptions,
        verifyToken: withSessionChecks(serverOptions.verifyToken, sessionState),
        readiness: { ...serverOptions.readiness, redis: () => sessionState.ping() },
      }
    : serverOptions;
  const app = express();
  app.disable('x-powered-by');
  // HMS_HOST narrows the interface, e.g. to 127.0.0.1 on a developer machine; containers need 0.0.0.0.
  const host = options.host ?? process.env.HMS_HOST ?? '0.0.0.0';
  const httpServer: Server = await new Promise((resolve, reject) => {
    const server = app.listen(options.port, host, (error?: Error) => {
      if (error)
        reject(
          new Error(`Subgraph ${options.name} cannot listen on ${host}:${options.port}: ${error.message}`, {
            cause: error,
          }),
        );
      else resolve(server);
    });
  });

  const registry = new client.Registry();
  registry.setDefaultLabels({ service: options.name });
  client.collectDefaultMetrics({ register: registry });
  const operations = new client.Counter({
    name: 'hms_graphql_operations_total',
    help: 'GraphQL operations served, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const anonymousFields = new Set([...ALWAYS_ANONYMOUS_FIELDS, ...(options.anonymousFields ?? [])]);
  const server = new ApolloServer<SubgraphContext>({
    schema: buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers }),
    introspection: !options.production,
    includeStacktraceInErrorResponses: !options.production,
    hideSchemaDetailsFromClientErrors: options.production,
    allowBatchedHttpRequests: false,
    formatError: (formatted, error) => formatSubgraphError(formatted, error, options),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // HMS sends no usage reports to Apollo Studio, so per-field timing traces would only leak internals.
      ApolloServerPluginInlineTraceDisabled(),
      anonymousAccessPlugin(anonymousFields),
      outcomeMetricsPlugin(operations),
      inputErrorsPlugin(),
    ],
  });
  await server.start();

  app.use((req, _res, next) => {
    const requestId = (req.header('x-request-id') ?? '').slice(0, 100) || randomUUID();
    const context: RequestContext = { requestId, traceId: traceIdOf(req.header('traceparent')) };
    runWithContext(context, () => next());
  });
  mountOperationalRoutes(app, options.readiness, options.logger, registry);
  options.routes?.(app);
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(server, {
      context: async ({ req }) => buildContext(req.header.bind(req), options),
    }),
  );

  const port = (httpServer.address() as AddressInfo).port;
  options.logger.info({ port }, `Subgraph ${options.name} is listening.`);
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    stop: async () => {
      await server.stop();
      options.logger.info(`Subgraph ${options.name} stopped.`);
    },
  };
}

async function buildContext(
  header: (name: string) => string | undefined,
  options: SubgraphServerOptions,
): Promise<SubgraphContext> {
  const requestContext = getRequestContext();
  const context: SubgraphContext = {
    requestId: requestContext.requestId,
    traceId: requestContext.traceId,
    clientIp: header('x-hms-client-ip'),
    userAgent: header('x-hms-user-agent'),
    memo: new Map(),
  };

  const token = bearerToken(header('authorization'));
  if (!token) return context;

  // A rejection is kept and raised once the operation is known: errors thrown while building the
  // context become HTTP 500 in Apollo Server, and `_service` stays reachable either way.
  try {
    const claims = await options.verifyToken(token);
    if (claims.typ === 'platform' && !options.acceptPlatformTokens) {
      context.rejection = HmsError.forbiddenBecause(
        'Platform operators cannot use this service because it contains tenant data.',
      );
      return context;
    }
    context.principal = new Principal(claims);
  } catch (error) {
    if (error instanceof TokenRejectedError) {
      options.logger.info({ reason: error.reason, temporary: error.temporary }, 'Rejected an access token.');
      context.rejection = HmsError.unauthenticated(`The access token was rejected (${error.reason}).`);
      return context;
    }
    if (error instanceof HmsError) {
      context.rejection = error;
      return context;
    }
    throw error;
  }

  requestContext.tenantId = context.principal.tenantId;
  requestContext.userId = context.principal.subject;
  requestContext.sessionId = context.principal.sessionId;
  return context;
}

/**
 * Rejects operations without a verified caller that select anything beyond the allowed root fields,
 * with the reason the token was rejected when there was one.
 */
function anonymousAccessPlugin(allowed: ReadonlySet<string>): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          if (contextValue.principal || !operation) return;
          const fields = rootFieldNames(document, operation);
          if (fields.every((field) => allowed.has(field))) return;
          const error = contextValue.rejection ?? HmsError.unauthenticated();
          // Apollo Server returns HTTP 500 for errors thrown from this hook, and the gateway then
          // replaces the code with its own INTERNAL_SERVER_ERROR; a 200 keeps the code intact.
          Object.assign(error.extensions, { http: { status: 200 } });
          throw error;
        },
      };
    },
  };
}

const INVALID_VARIABLE = /^Variable "\$(\w+)" got invalid value .*? at "([^"]+)"; (.*)$/s;

/**
 * Turns input that fails coercion into BAD_USER_INPUT naming the field, returned with HTTP 200.
 * Apollo Server returns HTTP 400 for such requests, which the gateway reports as
 * INTERNAL_SERVER_ERROR without the subgraph's message. Two kinds are handled: a variable that fails
 * coercion (a bad LocalDate, an unknown enum value) and a literal in the query text that a scalar's
 * `parseLiteral` rejects during validation, such as `date: "2026-02-30"`.
 */
function inputErrorsPlugin(): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, errors, document }) {
          if (response.http.status !== 400 || !errors?.length) return;
          if (!errors.every((error) => isVariableError(error) || isRejectedLiteral(error))) return;
          response.http.status = 200;
          // The body already contains formatted copies of the errors, in the same order, so they are rewritten there.
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.errors = (result.errors ?? []).map((formatted, index) => {
            const error = errors[index];
            if (error && isRejectedLiteral(error)) return literalInputError(formatted, error, document);
            const match = INVALID_VARIABLE.exec(formatted.message);
            if (!match) return formatted;
            return {
              ...formatted,
              extensions: { ...formatted.extensions, fields: [{ field: match[2], message: match[3] }] },
            };
          });
        },
      };
    },
  };
}

function isVariableError(error: GraphQLError): boolean {
  return error.extensions.code === ErrorCode.BAD_USER_INPUT;
}

/** Tells whether a validation error comes from a scalar's `parseLiteral` throwing BAD_USER_INPUT. */
function isRejectedLiteral(error: GraphQLError): boolean {
  const cause = error.originalError;
  return (
    error.extensions.code === ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED &&
    cause instanceof GraphQLError &&
    cause !== error &&
    cause.extensions.code === ErrorCode.BAD_USER_INPUT
  );
}

function literalInputError(
  formatted: GraphQLFormattedError,
  error: GraphQLError,
  document: DocumentNode | undefined,
): GraphQLFormattedError {
  const reason = (error.originalError as GraphQLError).message;
  const node = error.nodes?.[0];
  const field = (document && node && inputPathOf(document, node)) || 'input';
  return {
    message: `Invalid input. ${field}: ${reason}`,
    locations: formatted.locations,
    extensions: { code: ErrorCode.BAD_USER_INPUT, fields: [{ field, message: reason }] },
  };
}

/**
 * Names the input that contains `target` as field, argument and input object fields joined with dots,
 * e.g. `createPatient.input.birthDate`, or `$name` for a variable's default value.
 */
function inputPathOf(document: DocumentNode, target: ASTNode): string | undefined {
  let found: string | undefined;
  visit(document, {
    enter(node, _key, parent, _path, ancestors) {
      if (found !== undefined) return BREAK;
      if (node !== target) return undefined;
      const names: string[] = [];
      for (const ancestor of [...ancestors, parent]) {
        if (!ancestor || Array.isArray(ancestor)) continue;
        const astNode = ancestor as ASTNode;
        if (
          astNode.kind === Kind.FIELD ||
          astNode.kind === Kind.ARGUMENT ||
          astNode.kind === Kind.OBJECT_FIELD
        )
          names.push(astNode.name.value);
        else if (astNode.kind === Kind.VARIABLE_DEFINITION) names.push(`$${astNode.variable.name.value}`);
      }
      found = names.join('.');
      return BREAK;
    },
  });
  return found;
}

function outcomeMetricsPlugin(counter: client.Counter<'outcome'>): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ errors }) {
          counter.inc({ outcome: errors?.length ? 'error' : 'ok' });
        },
      };
    },
  };
}

/** Keeps HMS and client-input codes, and masks anything unexpected in production after logging it. */
function formatSubgraphError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: SubgraphServerOptions,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof HmsError) return formatted;

  const code = formatted.extensions?.code;
  const known = typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR;
  if (known) return formatted;

  options.logger.error({ err: original }, 'Unexpected error while serving a GraphQL request.');
  if (!options.production) return formatted;
  return {
    message: 'Internal server error. The trace id in the server log identifies the failure.',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
