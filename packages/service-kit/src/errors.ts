import { GraphQLError } from 'graphql';

/**
 * Error codes every HMS subgraph and the gateway put in `extensions.code`.
 * Clients branch on these, so a code is never renamed or reused.
 */
export const ErrorCode = {
  /** No valid access token, or the token was rejected. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The caller is known but lacks the permission the field requires. */
  FORBIDDEN: 'FORBIDDEN',
  /** The record does not exist in the caller's tenant. Another tenant's record is also NOT_FOUND. */
  NOT_FOUND: 'NOT_FOUND',
  /** The input is invalid; `extensions.fields` lists each invalid field with the reason. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The write conflicts with stored state (duplicate, stale version, taken slot). */
  CONFLICT: 'CONFLICT',
  /** The caller's tenant is suspended or offboarded. */
  TENANT_SUSPENDED: 'TENANT_SUSPENDED',
  /** The caller sent too many requests; retry after `extensions.retryAfterSeconds`. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** An unexpected failure; details are in the server log under the trace id. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One invalid input field: a dotted path such as `input.birthDate` and the reason it was rejected. */
export interface FieldError {
  field: string;
  message: string;
}

/** A GraphQL error with an HMS error code. Build it through the named factories. */
export class HmsError extends GraphQLError {
  readonly code: ErrorCode;

  private constructor(
    code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(message, {
      extensions: { ...extensions, code },
      originalError: cause instanceof Error ? cause : undefined,
    });
    this.code = code;
  }

  static unauthenticated(
    message = 'A valid access token is required. Sign in and send it as a Bearer token.',
  ) {
    return new HmsError(ErrorCode.UNAUTHENTICATED, message);
  }

  static forbidden(permission: string) {
    return new HmsError(ErrorCode.FORBIDDEN, `The permission ${permission} is required for this operation.`, {
      permission,
    });
  }

  static forbiddenBecause(message: string) {
    return new HmsError(ErrorCode.FORBIDDEN, message);
  }

  static notFound(entity: string, id: string) {
    return new HmsError(ErrorCode.NOT_FOUND, `${entity} ${id} was not found.`, { entity, id });
  }

  static badUserInput(fields: FieldError[]) {
    const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    return new HmsError(ErrorCode.BAD_USER_INPUT, `Invalid input. ${summary}`, { fields });
  }

  static conflict(message: string, extensions: Record<string, unknown> = {}) {
    return new HmsError(ErrorCode.CONFLICT, message, extensions);
  }

  static tenantSuspended(status: string) {
    return new HmsError(ErrorCode.TENANT_SUSPENDED, `The tenant is ${status}; its data cannot be used.`, {
      tenantStatus: status,
    });
  }

  static rateLimited(message: string, retryAfterSeconds?: number) {
    return new HmsError(ErrorCode.RATE_LIMITED, message, retryAfterSeconds ? { retryAfterSeconds } : {});
  }

  static internal(message: string, cause?: unknown) {
    return new HmsError(ErrorCode.INTERNAL_SERVER_ERROR, message, {}, cause);
  }
}

/** Collects field errors during validation and throws them together, so a client fixes all fields at once. */
export class InputErrors {
  private readonly errors: FieldError[] = [];

  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  get isEmpty(): boolean {
    return this.errors.length === 0;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw HmsError.badUserInput(this.errors);
  }
}
