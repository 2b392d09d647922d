import type { Redis } from 'ioredis';
import { HmsError } from '../errors.js';
import { isSessionRevoked, readTenantStatus } from './session-state.js';
import { TokenRejectedError, type TokenVerifier } from './tokens.js';

/**
 * Wraps a verifier so that a subgraph reached directly, past the gateway, also rejects tokens of
 * revoked sessions (logout, deactivated users, refresh token reuse) and of suspended or offboarded
 * tenants. Both facts live in Redis, written by identity.
 *
 * NOTE: a tenant whose status key is missing (Redis restarted before identity republished it) is
 * accepted here; the gateway queries identity in that case and stays the authoritative check.
 */
export function withSessionChecks(verify: TokenVerifier, redis: Redis): TokenVerifier {
  return async (token) => {
    const claims = await verify(token);
    const [revoked, status] = await Promise.all([
      isSessionRevoked(redis, claims.tid, claims.sid),
      claims.tid ? readTenantStatus(redis, claims.tid) : Promise.resolve(undefined),
    ]);
    if (revoked) throw new TokenRejectedError('session revoked');
    if (status && status !== 'active') throw HmsError.tenantSuspended(status);
    return claims;
  };
}
