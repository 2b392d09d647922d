import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/**
 * One sign-in of a tenant user on one device. Access tokens carry its id as `sid`, and revoking it
 * ends every token of the sign-in. Tenant-owned: row-level security applies.
 */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    userAgent: p.string().nullable(),
    ipAddress: p.string().nullable(),
    createdAt: p.datetime(),
    lastSeenAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokeReason: p.string().nullable(),
  },
  filters: tenantFilters,
});

export type Session = InferEntity<typeof Session>;

/**
 * A refresh token of a session, stored only as the SHA-256 of the token. Each refresh rotates it: the
 * presented token is marked rotated and a new one is issued. A rotated token presented again means it
 * was copied, and the whole session is revoked.
 */
export const RefreshToken = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    sessionId: p.uuid(),
    tokenHash: p.string(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    rotatedAt: p.datetime().nullable(),
  },
  filters: tenantFilters,
});

export type RefreshToken = InferEntity<typeof RefreshToken>;

/** A sign-in of a platform operator, with the same life cycle as Session but outside any tenant. */
export const PlatformSession = defineEntity({
  name: 'PlatformSession',
  tableName: 'platform_sessions',
  properties: {
    id: p.uuid().primary(),
    operatorId: p.uuid(),
    userAgent: p.string().nullable(),
    ipAddress: p.string().nullable(),
    createdAt: p.datetime(),
    lastSeenAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokeReason: p.string().nullable(),
  },
});

export type PlatformSession = InferEntity<typeof PlatformSession>;

/** A refresh token of a platform session, rotated by the same rules as RefreshToken. */
export const PlatformRefreshToken = defineEntity({
  name: 'PlatformRefreshToken',
  tableName: 'platform_refresh_tokens',
  properties: {
    id: p.uuid().primary(),
    sessionId: p.uuid(),
    tokenHash: p.string(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    rotatedAt: p.datetime().nullable(),
  },
});

export type PlatformRefreshToken = InferEntity<typeof PlatformRefreshToken>;
