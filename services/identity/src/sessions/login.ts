import { LockMode } from '@mikro-orm/postgresql';
import {
  HmsError,
  InputErrors,
  inPlatformTransaction,
  inTenantTransaction,
  type EventOrigin,
} from '@hms/service-kit';
import {
  LoginFailedSchema,
  LoginFailureReason,
  LoginSucceededSchema,
  Operation,
  Outcome,
} from '@hms/proto-schemas';
import { emit, SYSTEM_ORIGIN } from '../events.js';
import { emitAccountLocked } from '../users/user-service.js';
import type { IdentityDeps } from '../deps.js';
import { PlatformOperator } from '../entities/platform-operator.js';
import { Tenant } from '../entities/tenant.js';
import { User } from '../entities/user.js';
import { normalizeEmail, normalizePhone } from '../users/contact.js';
import { platformOperatorGrant, tenantUserGrant } from './grants.js';
import type { ClientInfo } from './realms.js';
import type { AuthResult, OpenedSession, SessionService } from './session-service.js';
import type { Grant } from './access-tokens.js';

export interface LoginInput {
  tenantSlug?: string | null;
  email?: string | null;
  phone?: string | null;
  password: string;
}

/** Lockout policy of platform operators, who have no tenant: fixed, and as strict as a tenant's default. */
const OPERATOR_LOCKOUT_THRESHOLD = 5;
const OPERATOR_LOCKOUT_MINUTES = 15;

/**
 * The single error of every failed sign-in, whether the tenant, the account or the password was wrong,
 * or the account is locked or deactivated. A more precise error would tell an attacker which accounts exist.
 */
export const invalidCredentials = () => HmsError.unauthenticated('Invalid credentials');

type Attempt =
  | { kind: 'ok'; grant: Grant; opened: OpenedSession; user?: User }
  | { kind: 'failed'; reason: string; userId?: string; tenantId?: string }
  | { kind: 'tenant_unavailable'; status: string; userId: string; tenantId: string };

/** Signs in tenant users and platform operators. */
export class LoginService {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly sessions: SessionService,
  ) {}

  async login(
    input: LoginInput,
    client: ClientInfo,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<AuthResult> {
    const errors = new InputErrors();
    const slug = input.tenantSlug?.trim().toLowerCase() || undefined;
    if (input.email && input.phone) errors.add('input.phone', 'give either email or phone, not both');
    if (!input.email && !input.phone)
      errors.add('input.email', 'give the email address or phone number of the account');
    if (!slug && !input.email)
      errors.add('input.email', 'platform operators sign in with their email address');
    errors.throwIfAny();

    // Malformed identifiers cannot match an account: they fail like a wrong password, after the same work.
    const shapeErrors = new InputErrors();
    const email = input.email ? normalizeEmail(shapeErrors, 'input.email', input.email) : undefined;
    const phone = input.phone ? normalizePhone(shapeErrors, 'input.phone', input.phone) : undefined;

    const attempt = slug
      ? await this.attemptTenantUser(slug, email, phone, input.password, client, origin)
      : await this.attemptPlatformOperator(email, input.password, client);
    if (attempt.kind !== 'ok') await this.recordFailure(attempt, origin);

    // The access token is signed only after the session committed, so no token names a missing session.
    if (attempt.kind === 'ok') return this.sessions.issue(attempt.grant, attempt.opened, attempt.user);
    if (attempt.kind === 'tenant_unavailable') throw HmsError.tenantSuspended(attempt.status);
    this.deps.logger.info(
      { reason: attempt.reason, userId: attempt.userId, platform: !slug },
      'Sign-in failed.',
    );
    throw invalidCredentials();
  }

  /**
   * Records a failed sign-in of a tenant in a transaction of its own, which commits although the
   * login then fails. It names the account when one matched, never the login name or the password.
   */
  private async recordFailure(attempt: Exclude<Attempt, { kind: 'ok' }>, origin: EventOrigin): Promise<void> {
    const tenantId = attempt.tenantId;
    if (!tenantId) return;
    const reason = failureReasonOf(attempt);
    const userId = attempt.userId ?? '';
    try {
      await inTenantTransaction(this.deps.orm, tenantId, (em) =>
        emit(
          em,
          origin,
          {
            type: 'identity.login.failed',
            tenantId,
            subject: { type: 'User', id: userId },
            payloadSchema: LoginFailedSchema,
            payload: { reason, userId },
          },
          {
            action: 'login.failed',
            operation: Operation.LOGIN,
            outcome: Outcome.FAILURE,
            reason: LoginFailureReason[reason].toLowerCase(),
          },
        ),
      );
    } catch (error) {
      // The caller gets the sign-in error either way, so a failed write is logged rather than raised.
      this.deps.logger.error(
        { err: error, tenantId, userId: attempt.userId },
        'Could not record a failed sign-in in the outbox; check PostgreSQL.',
      );
    }
  }

  private async attemptTenantUser(
    slug: string,
    email: string | undefined,
    phone: string | undefined,
    password: string,
    client: ClientInfo,
    origin: EventOrigin,
  ): Promise<Attempt> {
    const { orm, passwords } = this.deps;
    const tenant = await inPlatformTransaction(orm, (em) => em.findOne(Tenant, { slug }));
    if (!tenant || (!email && !phone)) {
      await passwords.burn(password);
      // NOTE: an unknown slug names no tenant, so that failure has no tenant log to be recorded in.
      return tenant
        ? { kind: 'failed', reason: 'malformed_identifier', tenantId: tenant.id }
        : { kind: 'failed', reason: 'unknown_tenant' };
    }

    const now = new Date();
    const attempt = await inTenantTransaction(orm, tenant.id, async (em): Promise<Attempt> => {
      // The row lock serializes concurrent attempts on one account, so failures are counted exactly.
      const user = await em.findOne(User, email ? { email } : { phone }, {
        lockMode: LockMode.PESSIMISTIC_WRITE,
      });
      if (!user) {
        await passwords.burn(password);
        return { kind: 'failed', reason: 'unknown_user', tenantId: tenant.id };
      }
      if (user.lockedUntil && user.lockedUntil.getTime() > now.getTime()) {
        await passwords.burn(password);
        return { kind: 'failed', reason: 'locked', userId: user.id, tenantId: tenant.id };
      }

      if (!(await passwords.verify(user.passwordHash, password))) {
        user.failedLoginCount += 1;
        if (user.failedLoginCount >= tenant.lockoutThreshold) {
          user.lockedUntil = new Date(now.getTime() + tenant.lockoutMinutes * 60_000);
          user.failedLoginCount = 0;
          this.deps.logger.warn(
            { userId: user.id, lockedUntil: user.lockedUntil },
            'Locked an account after repeated failed sign-ins.',
          );
          await emitAccountLocked(em, origin, user, tenant.lockoutThreshold);
        }
        return { kind: 'failed', reason: 'wrong_password', userId: user.id, tenantId: tenant.id };
      }

      // Past this point the caller proved the password, so naming the tenant's status leaks nothing.
      const decision = await tenantUserGrant(em, tenant, user, now);
      if (decision.kind === 'tenant_unavailable')
        return {
          kind: 'tenant_unavailable',
          status: decision.tenantStatus,
          userId: user.id,
          tenantId: tenant.id,
        };
      if (decision.kind === 'user_unavailable')
        return { kind: 'failed', reason: decision.reason, userId: user.id, tenantId: tenant.id };

      user.failedLoginCount = 0;
      user.lockedUntil = null;
      user.lastLoginAt = now;
      user.lastActiveAt = now;
      if (passwords.needsRehash(user.passwordHash)) user.passwordHash = await passwords.hash(password);
      const opened = this.sessions.open(em, this.sessions.realmOf(tenant.id), user.id, client, now);
      // The request was anonymous, so the user who just proved the password is named as the actor.
      const signedIn: EventOrigin = {
        ...origin,
        actor: { kind: 'user', id: user.id, sessionId: opened.sessionId, roles: decision.grant.roles },
      };
      await emit(
        em,
        signedIn,
        {
          type: 'identity.login.succeeded',
          tenantId: tenant.id,
          subject: { type: 'User', id: user.id },
          payloadSchema: LoginSucceededSchema,
          payload: { userId: user.id, sessionId: opened.sessionId },
        },
        { action: 'login.succeeded', operation: Operation.LOGIN },
      );
      this.deps.logger.info(
        { tenantId: tenant.id, userId: user.id, sessionId: opened.sessionId },
        'Signed in a user.',
      );
      return { kind: 'ok', grant: decision.grant, opened, user };
    });
    return attempt;
  }

  private async attemptPlatformOperator(
    email: string | undefined,
    password: string,
    client: ClientInfo,
  ): Promise<Attempt> {
    const { orm, passwords } = this.deps;
    if (!email) {
      await passwords.burn(password);
      return { kind: 'failed', reason: 'malformed_identifier' };
    }
    const now = new Date();
    return inPlatformTransaction(orm, async (em): Promise<Attempt> => {
      const operator = await em.findOne(
        PlatformOperator,
        { email },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!operator) {
        await passwords.burn(password);
        return { kind: 'failed', reason: 'unknown_operator' };
      }
      if (operator.lockedUntil && operator.lockedUntil.getTime() > now.getTime()) {
        await passwords.burn(password);
        return { kind: 'failed', reason: 'locked', userId: operator.id };
      }
      if (!(await passwords.verify(operator.passwordHash, password))) {
        operator.failedLoginCount += 1;
        if (operator.failedLoginCount >= OPERATOR_LOCKOUT_THRESHOLD) {
          operator.lockedUntil = new Date(now.getTime() + OPERATOR_LOCKOUT_MINUTES * 60_000);
          operator.failedLoginCount = 0;
          this.deps.logger.warn(
            { operatorId: operator.id },
            'Locked a platform operator account after repeated failed sign-ins.',
          );
        }
        return { kind: 'failed', reason: 'wrong_password', userId: operator.id };
      }

      operator.failedLoginCount = 0;
      operator.lockedUntil = null;
      operator.lastLoginAt = now;
      if (passwords.needsRehash(operator.passwordHash))
        operator.passwordHash = await passwords.hash(password);
      const opened = this.sessions.open(em, this.sessions.realmOf(undefined), operator.id, client, now);
      // NOTE: operator sign-ins publish no event and no audit record: both are per tenant (the outbox
      // rows, applied_events and the audit chain), and an operator has none. The log line below is
      // the only record until a platform audit log exists.
      this.deps.logger.info(
        { operatorId: operator.id, sessionId: opened.sessionId },
        'Signed in a platform operator.',
      );
      return { kind: 'ok', grant: platformOperatorGrant(operator), opened };
    });
  }
}

/** Maps the internal reason of a failed attempt to the reasons an event may carry. */
function failureReasonOf(attempt: Exclude<Attempt, { kind: 'ok' }>): LoginFailureReason {
  if (attempt.kind === 'tenant_unavailable') return LoginFailureReason.TENANT_SUSPENDED;
  if (attempt.reason === 'locked') return LoginFailureReason.ACCOUNT_LOCKED;
  if (attempt.reason === 'deactivated' || attempt.reason === 'inactivity')
    return LoginFailureReason.USER_DEACTIVATED;
  return LoginFailureReason.BAD_CREDENTIALS;
}
