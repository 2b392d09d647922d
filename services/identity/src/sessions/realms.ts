import { LockMode } from '@mikro-orm/postgresql';
import {
  inPlatformTransaction,
  inTenantTransaction,
  newId,
  type EntityManager,
  type MikroORM,
} from '@hms/service-kit';
import { PLATFORM_REFRESH_PREFIX } from './refresh-tokens.js';
import { PlatformRefreshToken, PlatformSession, RefreshToken, Session } from '../entities/session.js';

/** The columns a session has in either realm. */
export interface SessionRecord {
  id: string;
  userAgent?: string | null;
  ipAddress?: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  revokedAt?: Date | null;
  revokeReason?: string | null;
}

/** The columns a refresh token has in either realm. */
export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  expiresAt: Date;
  rotatedAt?: Date | null;
}

export interface ClientInfo {
  ipAddress?: string;
  userAgent?: string;
}

/**
 * Storage of a session: a tenant's tables under row-level security, or the platform tables of
 * operators. The rotation and revocation rules in session-service.ts are written once against it.
 */
export interface SessionRealm {
  /** The tenant, or undefined for platform sessions; also picks the Redis revocation key. */
  readonly tenantId: string | undefined;
  /** First part of this realm's refresh tokens. */
  readonly refreshPrefix: string;
  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
  /** Finds a refresh token by hash and locks it, so two refreshes of one token cannot both rotate it. */
  findRefreshToken(em: EntityManager, tokenHash: string): Promise<RefreshTokenRecord | null>;
  /** Finds and locks a session; subjectId is the user or operator it belongs to. */
  findSession(
    em: EntityManager,
    sessionId: string,
  ): Promise<{ session: SessionRecord; subjectId: string } | null>;
  createSession(em: EntityManager, subjectId: string, client: ClientInfo, now: Date): SessionRecord;
  createRefreshToken(
    em: EntityManager,
    sessionId: string,
    tokenHash: string,
    now: Date,
    expiresAt: Date,
  ): void;
}

export function tenantRealm(orm: MikroORM, tenantId: string): SessionRealm {
  return {
    tenantId,
    refreshPrefix: tenantId,
    transaction: (work) => inTenantTransaction(orm, tenantId, work),
    findRefreshToken: (em, tokenHash) =>
      em.findOne(RefreshToken, { tokenHash }, { lockMode: LockMode.PESSIMISTIC_WRITE }),
    findSession: async (em, sessionId) => {
      const session = await em.findOne(Session, { id: sessionId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      return session ? { session, subjectId: session.userId } : null;
    },
    createSession: (em, userId, client, now) =>
      em.create(Session, {
        id: newId(),
        tenantId,
        userId,
        userAgent: client.userAgent?.slice(0, 500) ?? null,
        ipAddress: client.ipAddress?.slice(0, 100) ?? null,
        createdAt: now,
        lastSeenAt: now,
      }),
    createRefreshToken: (em, sessionId, tokenHash, now, expiresAt) => {
      em.create(RefreshToken, { id: newId(), tenantId, sessionId, tokenHash, createdAt: now, expiresAt });
    },
  };
}

export function platformRealm(orm: MikroORM): SessionRealm {
  return {
    tenantId: undefined,
    refreshPrefix: PLATFORM_REFRESH_PREFIX,
    transaction: (work) => inPlatformTransaction(orm, work),
    findRefreshToken: (em, tokenHash) =>
      em.findOne(PlatformRefreshToken, { tokenHash }, { lockMode: LockMode.PESSIMISTIC_WRITE }),
    findSession: async (em, sessionId) => {
      const session = await em.findOne(
        PlatformSession,
        { id: sessionId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      return session ? { session, subjectId: session.operatorId } : null;
    },
    createSession: (em, operatorId, client, now) =>
      em.create(PlatformSession, {
        id: newId(),
        operatorId,
        userAgent: client.userAgent?.slice(0, 500) ?? null,
        ipAddress: client.ipAddress?.slice(0, 100) ?? null,
        createdAt: now,
        lastSeenAt: now,
      }),
    createRefreshToken: (em, sessionId, tokenHash, now, expiresAt) => {
      em.create(PlatformRefreshToken, { id: newId(), sessionId, tokenHash, createdAt: now, expiresAt });
    },
  };
}
