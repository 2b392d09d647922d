import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AccessTokenClaims } from './claims.js';

/** Signature algorithms HMS accepts. Anything else, `none` included, is rejected before key lookup. */
export const ACCEPTED_ALGORITHMS = ['EdDSA', 'ES256'] as const;

export interface TokenVerifierOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Allowed clock difference between identity and this service, in seconds. */
  clockToleranceSeconds?: number;
  /** Overrides the remote key set, for callers that already hold the keys. */
  keySet?: JWTVerifyGetKey;
}

/**
 * Raised when a token fails verification; `reason` is safe to log, the token itself is not.
 * `temporary` is true when the signing keys could not be fetched (identity unreachable or slow), so
 * the caller responds with "unavailable, retry" instead of signing the user out.
 */
export class TokenRejectedError extends Error {
  constructor(
    readonly reason: string,
    readonly temporary = false,
  ) {
    super(`Access token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

export type TokenVerifier = (token: string) => Promise<AccessTokenClaims>;

/**
 * Creates a verifier that checks signature, algorithm, issuer, audience and expiry of access tokens.
 * jose checks `iss` and `aud` only when they are passed and `exp` only when present, so all three are
 * required here explicitly. Keys come from identity's JWKS and are cached; an unknown `kid` triggers
 * one refetch, which is how key rotation reaches running services.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keySet =
    options.keySet ??
    createRemoteJWKSet(new URL(options.jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
      timeoutDuration: 5_000,
    });

  return async (token: string) => {
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: [...ACCEPTED_ALGORITHMS],
        requiredClaims: ['exp', 'iat', 'sub', 'sid', 'jti', 'iss', 'aud'],
        clockTolerance: options.clockToleranceSeconds ?? 5,
      });
      return toClaims(payload as Record<string, unknown>);
    } catch (error) {
      const temporary = error instanceof joseErrors.JWKSTimeout || isKeyFetchFailure(error);
      throw new TokenRejectedError(describeRejection(error), temporary);
    }
  };
}

function toClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const stringArray = (value: unknown, name: string): string[] => {
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw new TokenRejectedError(`claim ${name} must be an array of strings`);
    }
    return value;
  };
  const typ = payload.typ;
  if (typ !== 'user' && typ !== 'service' && typ !== 'platform') {
    throw new TokenRejectedError('claim typ must be user, service or platform');
  }
  if (typ !== 'platform' && typeof payload.tid !== 'string') {
    throw new TokenRejectedError('claim tid (tenant) is missing');
  }
  return {
    ...(payload as unknown as AccessTokenClaims),
    roles: stringArray(payload.roles, 'roles'),
    perms: stringArray(payload.perms, 'perms'),
    typ,
  };
}

/** Tells whether jose failed to reach the JWKS endpoint, which fetch reports as a TypeError. */
function isKeyFetchFailure(error: unknown): boolean {
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return true;
  // jose reports a non-200 JWKS response as a generic error with this wording (jose 6).
  return error instanceof joseErrors.JOSEError && /Expected 200 OK/.test(error.message);
}

function describeRejection(error: unknown): string {
  if (error instanceof TokenRejectedError) return error.reason;
  if (error instanceof joseErrors.JWKSTimeout || isKeyFetchFailure(error))
    return 'signing keys could not be fetched';
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} is invalid`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no matching signing key';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid)
    return 'malformed token';
  if (error instanceof joseErrors.JOSEError) return error.code;
  return 'verification failed';
}

/** Extracts the token from an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
