import { readTenantStatus, sessionStateKeys, type TenantStatus } from '@hms/service-kit/auth/session-state';
import type { Logger } from '@hms/service-kit/logger';
import type { Redis } from 'ioredis';

/** Raised when neither Redis nor identity reports whether the tenant is active, so the request is rejected. */
export class TenantStatusUnavailableError extends Error {
  constructor(tenantId: string, cause: unknown) {
    super(`The status of tenant ${tenantId} is unknown: Redis has no entry and identity did not answer.`, {
      cause,
    });
    this.name = 'TenantStatusUnavailableError';
  }
}

const STATUSES: ReadonlySet<string> = new Set(['active', 'suspended', 'offboarded']);

/**
 * Reads a tenant's status. identity writes `<tid>:tenant:status` whenever the status changes, so
 * Redis normally contains it. When the key is missing (Redis restarted or was flushed), the gateway
 * requests the status from identity's internal API and caches the response for a while. The cache
 * write uses NX, so a status that identity writes at the same moment is never overwritten with the
 * older value, and the TTL bounds how long a cached value can lag.
 *
 * `unknown` means that identity has no such tenant.
 */
export class TenantStatusLookup {
  /** Requests for one tenant that arrive while its status is being fetched share that one fetch. */
  private readonly inFlight = new Map<string, Promise<TenantStatus | 'unknown'>>();

  constructor(
    private readonly redis: Redis,
    private readonly identityInternalUrl: string,
    private readonly cacheSeconds: number,
    private readonly logger: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  async status(tenantId: string): Promise<TenantStatus | 'unknown'> {
    try {
      const cached = await readTenantStatus(this.redis, tenantId);
      if (cached) return cached;
    } catch (error) {
      this.logger.warn(
        { err: error, tenantId },
        'Reading the tenant status from Redis failed; asking identity',
      );
    }

    let pending = this.inFlight.get(tenantId);
    if (!pending) {
      pending = this.fetchAndCache(tenantId).finally(() => this.inFlight.delete(tenantId));
      this.inFlight.set(tenantId, pending);
    }
    return pending;
  }

  private async fetchAndCache(tenantId: string): Promise<TenantStatus | 'unknown'> {
    const base = this.identityInternalUrl.replace(/\/+$/, '');
    const url = `${base}/internal/tenants/${encodeURIComponent(tenantId)}/status`;
    let status: TenantStatus | 'unknown';
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (response.status === 404) {
        status = 'unknown';
      } else if (!response.ok) {
        throw new Error(`identity responded with HTTP ${response.status}`);
      } else {
        const body = (await response.json()) as { status?: unknown };
        if (typeof body.status !== 'string' || !STATUSES.has(body.status)) {
          throw new Error('identity responded without a valid "status"');
        }
        status = body.status as TenantStatus;
      }
    } catch (error) {
      throw new TenantStatusUnavailableError(tenantId, error);
    }

    if (status !== 'unknown') {
      try {
        await this.redis.set(sessionStateKeys.tenantStatus(tenantId), status, 'EX', this.cacheSeconds, 'NX');
      } catch (error) {
        this.logger.warn({ err: error, tenantId }, 'Caching the tenant status in Redis failed');
      }
    }
    return status;
  }
}
