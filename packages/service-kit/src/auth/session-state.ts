import type { Redis } from 'ioredis';

/**
 * Redis keys that identity writes and the gateway reads on every request. Keys start with the tenant
 * id so that a tenant's keys can be listed and removed together.
 */
export const sessionStateKeys = {
  /** `active`, `suspended` or `offboarded`. */
  tenantStatus: (tenantId: string) => `${tenantId}:tenant:status`,
  /** Present while the session is revoked; expires after the longest access token lifetime. */
  revokedSession: (tenantId: string, sessionId: string) => `${tenantId}:session:${sessionId}:revoked`,
  /** Revoked platform operator sessions, which belong to no tenant. */
  revokedPlatformSession: (sessionId: string) => `platform:session:${sessionId}:revoked`,
};

export type TenantStatus = 'active' | 'suspended' | 'offboarded';

export async function readTenantStatus(redis: Redis, tenantId: string): Promise<TenantStatus | undefined> {
  const value = await redis.get(sessionStateKeys.tenantStatus(tenantId));
  if (value === 'active' || value === 'suspended' || value === 'offboarded') return value;
  return undefined;
}

export async function writeTenantStatus(redis: Redis, tenantId: string, status: TenantStatus): Promise<void> {
  await redis.set(sessionStateKeys.tenantStatus(tenantId), status);
}

export async function isSessionRevoked(
  redis: Redis,
  tenantId: string | undefined,
  sessionId: string,
): Promise<boolean> {
  const key = tenantId
    ? sessionStateKeys.revokedSession(tenantId, sessionId)
    : sessionStateKeys.revokedPlatformSession(sessionId);
  return (await redis.exists(key)) === 1;
}

export async function markSessionRevoked(
  redis: Redis,
  tenantId: string | undefined,
  sessionId: string,
  ttlSeconds: number,
): Promise<void> {
  const key = tenantId
    ? sessionStateKeys.revokedSession(tenantId, sessionId)
    : sessionStateKeys.revokedPlatformSession(sessionId);
  await redis.set(key, '1', 'EX', ttlSeconds);
}
