import { ApolloServerErrorCode } from '@apollo/server/errors';
import { HeaderMap } from '@apollo/server';
import { tryGetRequestContext } from '@hms/service-kit/context';
import { ErrorCode, HmsError } from '@hms/service-kit/errors';
import type { Logger } from '@hms/service-kit/logger';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isTokenLimitError, tokenLimitMessage } from './query-limits.js';

/**
 * Gives a request-level error its HTTP status. Errors that stop a request before execution get a
 * matching 4xx status (as Apollo Server does for validation errors) and the usual GraphQL body, so
 * HTTP tooling and GraphQL clients can both tell what happened.
 *
 * Statuses: 400 invalid query, 401 UNAUTHENTICATED, 403 TENANT_SUSPENDED, 429 RATE_LIMITED with
 * Retry-After, 503 when Redis or identity cannot be reached.
 */
export function withHttpStatus<E extends GraphQLError>(
  error: E,
  status: number,
  headers?: Record<string, string>,
): E {
  error.extensions.http = { status, headers: new HeaderMap(Object.entries(headers ?? {})) };
  return error;
}

/**
 * Creates the error for a request that the gateway cannot check because Redis or identity is
 * unreachable. Such requests are rejected (fail closed).
 */
export function serviceUnavailable(message: string, cause: unknown): HmsError {
  return withHttpStatus(HmsError.internal(message, cause), 503, { 'retry-after': '5' });
}

/** Codes a client may see as they are. Anything else is an unexpected failure. */
const CLIENT_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR),
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_USER_INPUT,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.BAD_REQUEST,
]);

const HMS_CODES: ReadonlySet<string> = new Set<string>(Object.values(ErrorCode));

const SUGGESTION = / ?Did you mean(.+?)\?$/;

export const GENERIC_ERROR_MESSAGE = 'An unexpected error occurred. Quote the trace id when reporting it.';

/**
 * Builds Apollo Server's `formatError`. It keeps `extensions.code` on every error, restores the HMS
 * code of errors that Apollo Server re-wrapped (validation errors always become
 * GRAPHQL_VALIDATION_FAILED, even when a rule reported BAD_USER_INPUT), and treats every other error as
 * unexpected: logged with the trace id and, in production, replaced by a generic INTERNAL_SERVER_ERROR
 * that carries only the trace id, so no internal detail reaches the client.
 */
export function createErrorFormatter(options: { production: boolean; logger: Logger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const extensions: Record<string, unknown> = { ...formatted.extensions };
    const inner = error instanceof GraphQLError ? error.originalError : undefined;
    if (
      inner instanceof GraphQLError &&
      typeof inner.extensions.code === 'string' &&
      HMS_CODES.has(inner.extensions.code)
    ) {
      extensions.code = inner.extensions.code;
    } else if (
      extensions.code === ApolloServerErrorCode.GRAPHQL_PARSE_FAILED &&
      isTokenLimitError(formatted)
    ) {
      extensions.code = ErrorCode.BAD_USER_INPUT;
      extensions.limit = 'maxTokens';
      formatted = { ...formatted, message: tokenLimitMessage(formatted.message) };
    }

    const code = typeof extensions.code === 'string' ? extensions.code : undefined;
    if (!code || !CLIENT_CODES.has(code)) {
      const traceId = tryGetRequestContext()?.traceId;
      options.logger.error(
        { err: error, code, traceId, path: formatted.path },
        'Unexpected error in a GraphQL request',
      );
      if (options.production) {
        return {
          message: GENERIC_ERROR_MESSAGE,
          ...(formatted.path ? { path: formatted.path } : {}),
          extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(traceId ? { traceId } : {}) },
        };
      }
      extensions.traceId = traceId;
    }

    if (!options.production) return { ...formatted, extensions };
    // Subgraphs in development mode may attach stack traces; none leave the gateway in production.
    delete extensions.stacktrace;
    delete extensions.exception;
    return { ...formatted, message: formatted.message.replace(SUGGESTION, ''), extensions };
  };
}
