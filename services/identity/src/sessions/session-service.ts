import {
  HmsError,
  markSessionRevoked,
  type EntityManager,
  type EventOrigin,
  type Principal,
} from '@hms/service-kit';
import {
  Operation,
  Outcome,
  RefreshTokenReusedSchema,
  SessionRevokedSchema,
  SessionRevokeReason,
} from '@hms/proto-schemas';
import type { IdentityDeps } from '../deps.js';
import { emit, SYSTEM_ORIGIN } from '../events.js';
import { Session } from '../entities/session.js';
import type { User } from '../entities/user.js';
import type { AccessTokenSigner, Grant } from './access-tokens.js';
import { regrantPlatformOperator, regrantTenantUser, type GrantDecision } from './grants.js';
import { platformRealm, tenantRealm, type ClientInfo, type SessionRealm } from './realms.js';
import { hashRefreshToken, newRefreshToken, ownerOfRefreshToken } from './refresh-tokens.js';

/** Seconds a revoked-session key outlives the access token lifetime, covering the verifiers' clock tolerance. */
const REVOCATION_MARGIN_SECONDS = 30;

/** Reasons recorded on revoked sessions; they are also log fields. */
export const RevokeReason = {
  logout: 'logout',
  refreshTokenReuse: 'refresh_token_reuse',
  userDeactivated: 'user_deactivated',
  passwordChanged: 'password_changed',
  passwordReset: 'password_reset',
  lockedOut: 'locked_out',
  userUnavailable: 'user_unavailable',
} as const;

export type RevokeReason = (typeof RevokeReason)[keyof typeof RevokeReason];

/** The SessionRevoked reason of each stored revoke reason. */
const EVENT_REASON: Record<RevokeReason, SessionRevokeReason> = {
  logout: SessionRevokeReason.LOGOUT,
  refresh_token_reuse: SessionRevokeReason.REFRESH_TOKEN_REUSE,
  user_deactivated: SessionRevokeReason.USER_DEACTIVATED,
  password_changed: SessionRevokeReason.PASSWORD_CHANGED,
  password_reset: SessionRevokeReason.PASSWORD_RESET,
  locked_out: SessionRevokeReason.LOCKED_OUT,
  user_unavailable: SessionRevokeReason.USER_UNAVAILABLE,
};

/**
 * Writes the SessionRevoked event and audit record of one tenant session, in the transaction that
 * revokes it, so consumers drop the session's cached state exactly when the revocation commits. A
 * sign-out is audited as LOGOUT, and every other revocation as SECURITY.
 */
async function emitSessionRevoked(
  em: EntityManager,
  origin: EventOrigin,
  session: { tenantId: string; userId: string; sessionId: string },
  reason: RevokeReason,
): Promise<void> {
  await emit(
    em,
    origin,
    {
      type: 'identity.session.revoked',
      tenantId: session.tenantId,
      subject: { type: 'Session', id: session.sessionId },
      payloadSchema: SessionRevokedSchema,
      payload: { userId: session.userId, sessionId: session.sessionId, reason: EVENT_REASON[reason] },
    },
    reason === RevokeReason.logout
      ? { action: 'logout', operation: Operation.LOGOUT }
      : { action: 'session.revoke', operation: Operation.SECURITY, reason },
  );
}

/** Result of login and refreshSession, served as the GraphQL AuthPayload. */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  principalId: string;
  principalType: 'user' | 'platform';
  passwordChangeRequired: boolean;
  /** The tenant user, absent for platform operators. */
  user?: User;
}

/** A session opened inside a transaction, waiting for its access token after the commit. */
export interface OpenedSession {
  sessionId: string;
  refreshToken: string;
}

const invalidRefreshToken = () =>
  HmsError.unauthenticated('The refresh token is invalid, expired or revoked. Sign in again.');

/**
 * Sessions and their tokens: opening on sign-in, rotating refresh tokens, and revoking. The database
 * is the record; Redis carries revocations to the gateway and every subgraph, which only see tokens.
 */
export class SessionService {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly signer: AccessTokenSigner,
  ) {}

  realmOf(tenantId: string | undefined): SessionRealm {
    return tenantId ? tenantRealm(this.deps.orm, tenantId) : platformRealm(this.deps.orm);
  }

  /** Opens a session in the caller's transaction, so the session exists only if the sign-in commits. */
  open(
    em: EntityManager,
    realm: SessionRealm,
    subjectId: string,
    client: ClientInfo,
    now: Date,
  ): OpenedSession {
    const session = realm.createSession(em, subjectId, client, now);
    const refreshToken = newRefreshToken(realm.refreshPrefix);
    realm.createRefreshToken(em, session.id, hashRefreshToken(refreshToken), now, this.refreshExpiry(now));
    return { sessionId: session.id, refreshToken };
  }

  /** Signs the access token of an opened or refreshed session. */
  async issue(grant: Grant, opened: OpenedSession, user?: User): Promise<AuthResult> {
    const access = await this.signer.sign(grant, opened.sessionId);
    return {
      accessToken: access.token,
      refreshToken: opened.refreshToken,
      expiresAt: access.expiresAt,
      principalId: grant.subjectId,
      principalType: grant.typ,
      passwordChangeRequired: grant.passwordChangeRequired,
      user,
    };
  }

  /**
   * Exchanges a refresh token for a new pair and marks the presented one rotated. A rotated token
   * presented again means two parties have it, so the whole session is revoked and both must sign in
   * again. Roles, permissions and the tenant's status are read afresh, so changes reach the new token.
   */
  async refresh(
    presented: string,
    client: ClientInfo,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<AuthResult> {
    const owner = ownerOfRefreshToken(presented);
    if (!owner) throw invalidRefreshToken();
    const realm = this.realmOf(owner.kind === 'tenant' ? owner.tenantId : undefined);
    const now = new Date();

    const outcome = await realm.transaction(async (em) => {
      const token = await realm.findRefreshToken(em, hashRefreshToken(presented));
      if (!token) return { kind: 'invalid' as const, reason: 'unknown' };
      const found = await realm.findSession(em, token.sessionId);
      if (!found || found.session.revokedAt) return { kind: 'invalid' as const, reason: 'session_revoked' };
      const { session, subjectId } = found;

      if (token.rotatedAt) {
        session.revokedAt = now;
        session.revokeReason = RevokeReason.refreshTokenReuse;
        // NOTE: platform sessions have no tenant, so their reuse is only logged (see login.ts).
        if (realm.tenantId) {
          await emit(
            em,
            { ...origin, actor: { kind: 'user', id: subjectId, sessionId: session.id } },
            {
              type: 'identity.refresh_token.reused',
              tenantId: realm.tenantId,
              subject: { type: 'Session', id: session.id },
              payloadSchema: RefreshTokenReusedSchema,
              payload: { userId: subjectId, sessionId: session.id },
            },
            { action: 'refresh_token.reused', operation: Operation.SECURITY, outcome: Outcome.DENIED },
          );
          // The reuse event reports the incident; this one ends the session for consumers, as every
          // other revocation does.
          await emitSessionRevoked(
            em,
            origin,
            { tenantId: realm.tenantId, userId: subjectId, sessionId: session.id },
            RevokeReason.refreshTokenReuse,
          );
        }
        return { kind: 'reused' as const, sessionId: session.id, subjectId };
      }
      if (token.expiresAt.getTime() <= now.getTime()) return { kind: 'invalid' as const, reason: 'expired' };

      const decision: GrantDecision = realm.tenantId
        ? await regrantTenantUser(em, realm.tenantId, subjectId, now)
        : await regrantPlatformOperator(em, subjectId);
      if (decision.kind === 'tenant_unavailable')
        return { kind: 'tenant_unavailable' as const, status: decision.tenantStatus };
      if (decision.kind === 'user_unavailable') {
        session.revokedAt = now;
        session.revokeReason = RevokeReason.userUnavailable;
        if (realm.tenantId)
          await emitSessionRevoked(
            em,
            origin,
            { tenantId: realm.tenantId, userId: subjectId, sessionId: session.id },
            RevokeReason.userUnavailable,
          );
        return { kind: 'revoked' as const, sessionId: session.id, reason: decision.reason };
      }

      token.rotatedAt = now;
      session.lastSeenAt = now;
      if (client.ipAddress) session.ipAddress = client.ipAddress.slice(0, 100);
      if (client.userAgent) session.userAgent = client.userAgent.slice(0, 500);
      const refreshToken = newRefreshToken(realm.refreshPrefix);
      realm.createRefreshToken(em, session.id, hashRefreshToken(refreshToken), now, this.refreshExpiry(now));
      return {
        kind: 'rotated' as const,
        grant: decision.grant,
        user: decision.user,
        opened: { sessionId: session.id, refreshToken },
      };
    });

    switch (outcome.kind) {
      case 'rotated':
        return this.issue(outcome.grant, outcome.opened, outcome.user);
      case 'reused':
        await this.announceRevoked(realm.tenantId, [outcome.sessionId]);
        this.deps.logger.warn(
          { tenantId: realm.tenantId, sessionId: outcome.sessionId, subjectId: outcome.subjectId },
          'A rotated refresh token was presented again; the session is revoked because the token may be stolen.',
        );
        throw invalidRefreshToken();
      case 'revoked':
        await this.announceRevoked(realm.tenantId, [outcome.sessionId]);
        this.deps.logger.info(
          { tenantId: realm.tenantId, sessionId: outcome.sessionId, reason: outcome.reason },
          'Rejected a refresh and ended the session.',
        );
        throw invalidRefreshToken();
      case 'tenant_unavailable':
        throw HmsError.tenantSuspended(outcome.status);
      case 'invalid':
        this.deps.logger.info(
          { tenantId: realm.tenantId, reason: outcome.reason },
          'Rejected a refresh token.',
        );
        throw invalidRefreshToken();
    }
  }

  /** Ends the caller's own session. Idempotent: a session already revoked stays as it was. */
  async logout(principal: Principal, origin: EventOrigin = { principal }): Promise<void> {
    const realm = this.realmOf(principal.tenantId);
    await realm.transaction(async (em) => {
      const found = await realm.findSession(em, principal.sessionId);
      if (found && !found.session.revokedAt) {
        found.session.revokedAt = new Date();
        found.session.revokeReason = RevokeReason.logout;
        // NOTE: an operator's logout has no tenant, so it is not recorded (see login.ts).
        if (principal.tenantId) {
          await emitSessionRevoked(
            em,
            origin,
            { tenantId: principal.tenantId, userId: principal.subject, sessionId: principal.sessionId },
            RevokeReason.logout,
          );
        }
      }
    });
    await this.announceRevoked(principal.tenantId, [principal.sessionId]);
  }

  /**
   * Revokes every open session of a tenant user in the caller's transaction, writing one SessionRevoked
   * event and audit record each. Returns their ids, which the caller passes to announceRevoked after
   * the commit.
   */
  async revokeUserSessions(
    em: EntityManager,
    origin: EventOrigin,
    userId: string,
    reason: RevokeReason,
    now: Date,
    except?: string,
  ): Promise<string[]> {
    const sessions = await em.find(Session, {
      userId,
      revokedAt: null,
      ...(except ? { id: { $ne: except } } : {}),
    });
    for (const session of sessions) {
      session.revokedAt = now;
      session.revokeReason = reason;
      await emitSessionRevoked(
        em,
        origin,
        { tenantId: session.tenantId, userId: session.userId, sessionId: session.id },
        reason,
      );
    }
    return sessions.map((session) => session.id);
  }

  /**
   * Writes revoked sessions to Redis, where the gateway and subgraphs look on every request. The key
   * lives as long as the longest access token of the session could.
   */
  async announceRevoked(tenantId: string | undefined, sessionIds: string[]): Promise<void> {
    const ttl = this.deps.config.HMS_ACCESS_TOKEN_TTL_SECONDS + REVOCATION_MARGIN_SECONDS;
    try {
      await Promise.all(
        sessionIds.map((sessionId) => markSessionRevoked(this.deps.redis, tenantId, sessionId, ttl)),
      );
    } catch (error) {
      // The sessions are revoked in the database, so no refresh succeeds; only their current access
      // tokens stay usable until they expire. Failing the request would not undo the revocation.
      this.deps.logger.error(
        { err: error, tenantId, sessionIds },
        'Could not write revoked sessions to Redis; their access tokens stay valid until they expire. Check Redis.',
      );
    }
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.deps.config.HMS_REFRESH_TOKEN_TTL_SECONDS * 1000);
  }
}
