import { Principal } from '@hms/service-kit/auth/claims';
import { isSessionRevoked } from '@hms/service-kit/auth/session-state';
import { bearerToken, TokenRejectedError, type TokenVerifier } from '@hms/service-kit/auth/tokens';
import { HmsError } from '@hms/service-kit/errors';
import type { Logger } from '@hms/service-kit/logger';
import type { Redis } from 'ioredis';
import { serviceUnavailable, withHttpStatus } from './errors.js';
import type { TenantStatusLookup } from './tenant-status.js';

function unauthenticated(message?: string) {
  return withHttpStatus(HmsError.unauthenticated(message), 401);
}

/**
 * Decides whether the caller of a request may use the graph: a valid token (signature, algorithm,
 * issuer, audience, expiry), a tenant claim unless the caller is a platform operator, an active tenant
 * and a session that has not been revoked. Each failed check throws the GraphQL error for the response.
 */
export class Authenticator {
  constructor(
    private readonly verify: TokenVerifier,
    private readonly redis: Redis,
    private readonly tenantStatus: TenantStatusLookup,
    private readonly logger: Logger,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthenticated();
    const token = bearerToken(authorization);
    if (!token) throw unauthenticated('The Authorization header must have the form "Bearer <access token>".');

    let claims;
    try {
      claims = await this.verify(token);
    } catch (error) {
      const reason = error instanceof TokenRejectedError ? error.reason : 'verification failed';
      if (error instanceof TokenRejectedError && error.temporary) {
        this.logger.warn({ reason }, 'Cannot verify access tokens because the signing keys are unreachable.');
        throw serviceUnavailable('Cannot verify the access token right now; try again shortly.', error);
      }
      this.logger.info({ reason }, 'Access token rejected');
      throw unauthenticated(`The access token was rejected (${reason}). Sign in again.`);
    }

    // The kit's verifier already requires `tid` on tenant tokens; checking here too keeps the gateway's
    // tenancy guarantee independent of that detail.
    if (claims.typ === 'platform') {
      if (claims.tid !== undefined)
        throw unauthenticated('A platform operator token must not name a tenant.');
    } else if (typeof claims.tid !== 'string' || claims.tid === '') {
      throw unauthenticated('The access token names no tenant.');
    }
    const tenantId = claims.tid;

    const [status, revoked] = await Promise.all([
      tenantId ? this.tenantStatus.status(tenantId) : Promise.resolve('active' as const),
      isSessionRevoked(this.redis, tenantId, claims.sid).catch((error: unknown) => {
        throw serviceUnavailable('Cannot check the session; try again shortly.', error);
      }),
    ]).catch((error: unknown) => {
      if (error instanceof HmsError) throw error;
      throw serviceUnavailable("Cannot confirm the tenant's status; try again shortly.", error);
    });

    if (revoked) throw unauthenticated('The session has ended. Sign in again.');
    if (status === 'unknown') throw unauthenticated('The tenant of the access token does not exist.');
    if (status !== 'active') throw withHttpStatus(HmsError.tenantSuspended(status), 403);
    return new Principal(claims);
  }
}
