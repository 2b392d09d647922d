import {
  decodeCursor,
  encodeCursor,
  HmsError,
  InputErrors,
  inTenantTransaction,
  isUuid,
  newId,
  pageSize,
  toConnection,
  type Connection,
  type EntityManager,
  type EventOrigin,
} from '@hms/service-kit';
import {
  Operation,
  AccountLockedSchema,
  PasswordChangedSchema,
  timestampFromDate,
  UserCreatedSchema,
  UserDeactivatedSchema,
  UserReactivatedSchema,
  UserRolesChangedSchema,
  UserUpdatedSchema,
} from '@hms/proto-schemas';
import type { IdentityDeps } from '../deps.js';
import { emit, SYSTEM_ORIGIN } from '../events.js';
import { violatedUniqueConstraint } from '../db-errors.js';
import { Role, UserRole } from '../entities/role.js';
import { Tenant } from '../entities/tenant.js';
import { User, USER_STATUSES } from '../entities/user.js';
import { TENANT_ADMIN_ROLE } from '../roles/permissions.js';
import { RevokeReason, type SessionService } from '../sessions/session-service.js';
import { passwordPolicyOf, type PasswordPolicy } from '../tenants/settings.js';
import { cleanName, displayNameOf, normalizeEmail, normalizePhone } from './contact.js';
import { checkPasswordRules, isRecentPassword, replacePasswordHash } from './password-policy.js';

export interface NameInput {
  givenName?: string | null;
  familyName?: string | null;
  displayName?: string | null;
}

export interface CreateUserInput extends NameInput {
  email?: string | null;
  phone?: string | null;
  password: string;
  roles: string[];
}

export interface UpdateUserInput extends NameInput {
  email?: string | null;
  phone?: string | null;
}

export type UserStatus = (typeof USER_STATUSES)[number];

/** Fields of a new user after validation, ready to insert. */
export interface NewUser {
  givenName: string | null;
  familyName: string | null;
  displayName: string;
  email: string | null;
  phone: string | null;
  passwordHash: string;
}

/** Reports which field a unique violation on the users table is about. */
function conflictOf(error: unknown, prefix: string): HmsError | undefined {
  const constraint = violatedUniqueConstraint(error);
  if (constraint === 'users_tenant_email_key') {
    return HmsError.conflict('Another user of this tenant has this email address.', {
      field: `${prefix}.email`,
    });
  }
  if (constraint === 'users_tenant_phone_key') {
    return HmsError.conflict('Another user of this tenant has this phone number.', {
      field: `${prefix}.phone`,
    });
  }
  return undefined;
}

/** Validates the name fields of a new user; at least a display name or a given or family name is needed. */
export function checkNames(
  errors: InputErrors,
  prefix: string,
  input: NameInput,
): Pick<NewUser, 'givenName' | 'familyName' | 'displayName'> {
  const givenName = cleanName(errors, `${prefix}.givenName`, input.givenName);
  const familyName = cleanName(errors, `${prefix}.familyName`, input.familyName);
  const displayName =
    cleanName(errors, `${prefix}.displayName`, input.displayName) ?? displayNameOf(givenName, familyName);
  if (!displayName) errors.add(`${prefix}.displayName`, 'give a display name or a given or family name');
  return { givenName, familyName, displayName };
}

/**
 * Inserts a user with roles in the caller's transaction. Shared by createUser and by tenant creation,
 * which makes the first administrator in the same transaction as the tenant.
 */
export function insertUser(
  em: EntityManager,
  tenantId: string,
  fields: NewUser,
  roles: readonly Role[],
  now: Date,
): User {
  const user = em.create(User, {
    id: newId(),
    tenantId,
    ...fields,
    status: 'active',
    statusChangedAt: now,
    passwordChangedAt: now,
    passwordResetRequired: false,
    failedLoginCount: 0,
    createdAt: now,
    updatedAt: now,
  });
  for (const role of roles)
    em.create(UserRole, { tenantId, userId: user.id, roleId: role.id, createdAt: now });
  return user;
}

/** Staff accounts of a tenant: creation, profile, status, roles and passwords. */
export class UserService {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly sessions: SessionService,
  ) {}

  async get(tenantId: string, id: string): Promise<User | null> {
    if (!isUuid(id)) return null;
    return inTenantTransaction(this.deps.orm, tenantId, (em) => em.findOne(User, { id }));
  }

  /** Loads several users of one tenant in one query; missing and other tenants' ids come back absent. */
  async getMany(tenantId: string, ids: readonly string[]): Promise<Map<string, User>> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return new Map();
    const users = await inTenantTransaction(this.deps.orm, tenantId, (em) =>
      em.find(User, { id: { $in: valid } }),
    );
    return new Map(users.map((user) => [user.id, user]));
  }

  /** Users of the tenant by display name, optionally filtered by a case-insensitive search and a status. */
  async list(
    tenantId: string,
    args: {
      search?: string | null;
      status?: UserStatus | null;
      first?: number | null;
      after?: string | null;
    },
  ): Promise<Connection<User>> {
    const size = pageSize(args.first);
    const cursor = decodeCursor(args.after, 2);
    const search = args.search?.trim();
    if (search && search.length > 100)
      throw HmsError.badUserInput([{ field: 'search', message: 'must be at most 100 characters' }]);

    const where: Record<string, unknown> = {};
    if (args.status) where.status = args.status;
    if (search) {
      const pattern = `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      where.$or = [
        { displayName: { $ilike: pattern } },
        { givenName: { $ilike: pattern } },
        { familyName: { $ilike: pattern } },
        { email: { $ilike: pattern } },
        { phone: { $like: pattern } },
      ];
    }

    return inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const totalCount = await em.count(User, where);
      const page: Record<string, unknown> = cursor
        ? {
            $and: [
              where,
              {
                $or: [
                  { displayName: { $gt: cursor[0] } },
                  { displayName: cursor[0], id: { $gt: cursor[1] } },
                ],
              },
            ],
          }
        : where;
      const rows = await em.find(User, page, { orderBy: { displayName: 'asc', id: 'asc' }, limit: size + 1 });
      return toConnection(
        rows,
        size,
        totalCount,
        (user) => encodeCursor([user.displayName, user.id]),
        cursor !== undefined,
      );
    });
  }

  async create(tenantId: string, input: CreateUserInput, origin: EventOrigin = SYSTEM_ORIGIN): Promise<User> {
    const tenant = await this.tenant(tenantId);
    const errors = new InputErrors();
    const names = checkNames(errors, 'input', input);
    const email = input.email ? (normalizeEmail(errors, 'input.email', input.email) ?? null) : null;
    const phone = input.phone ? (normalizePhone(errors, 'input.phone', input.phone) ?? null) : null;
    if (!input.email && !input.phone) errors.add('input.email', 'give an email address or a phone number');
    checkPasswordRules(errors, 'input.password', input.password, passwordPolicyOf(tenant), [email, phone]);
    if (input.roles.length === 0) errors.add('input.roles', 'give at least one role');
    errors.throwIfAny();

    const passwordHash = await this.deps.passwords.hash(input.password);
    try {
      return await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
        const roles = await this.rolesByName(em, input.roles, 'input.roles');
        const user = insertUser(em, tenantId, { ...names, email, phone, passwordHash }, roles, new Date());
        await emitUserCreated(em, origin, user, roles);
        return user;
      });
    } catch (error) {
      throw conflictOf(error, 'input') ?? error;
    }
  }

  /** Changes profile fields; an absent field stays, null clears it (the user keeps an email or phone). */
  async update(
    tenantId: string,
    id: string,
    input: UpdateUserInput,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<User> {
    const errors = new InputErrors();
    const email = input.email
      ? normalizeEmail(errors, 'input.email', input.email)
      : input.email === null
        ? null
        : undefined;
    const phone = input.phone
      ? normalizePhone(errors, 'input.phone', input.phone)
      : input.phone === null
        ? null
        : undefined;
    const givenName =
      input.givenName === undefined ? undefined : cleanName(errors, 'input.givenName', input.givenName);
    const familyName =
      input.familyName === undefined ? undefined : cleanName(errors, 'input.familyName', input.familyName);
    const displayName =
      input.displayName === undefined ? undefined : cleanName(errors, 'input.displayName', input.displayName);
    errors.throwIfAny();

    try {
      return await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
        const user = await this.findUser(em, id);
        const before = profileOf(user);
        // A display name that was derived from the name parts follows them; a chosen one stays.
        const derived = user.displayName === displayNameOf(user.givenName ?? null, user.familyName ?? null);
        if (givenName !== undefined) user.givenName = givenName;
        if (familyName !== undefined) user.familyName = familyName;
        if (displayName) user.displayName = displayName;
        else if (displayName === null || derived)
          user.displayName = displayNameOf(user.givenName ?? null, user.familyName ?? null);
        if (email !== undefined) user.email = email;
        if (phone !== undefined) user.phone = phone;

        const problems = new InputErrors();
        if (!user.displayName)
          problems.add('input.displayName', 'the user needs a display name or a given or family name');
        if (!user.email && !user.phone)
          problems.add('input.email', 'the user needs an email address or a phone number');
        problems.throwIfAny();
        user.updatedAt = new Date();

        const after = profileOf(user);
        const changedFields = PROFILE_FIELDS.filter((field) => before[field] !== after[field]);
        await emit(
          em,
          origin,
          {
            type: 'identity.user.updated',
            tenantId,
            subject: { type: 'User', id: user.id },
            payloadSchema: UserUpdatedSchema,
            payload: { userId: user.id, changedFields },
          },
          { action: 'user.update', operation: Operation.UPDATE, changedFields },
        );
        return user;
      });
    } catch (error) {
      throw conflictOf(error, 'input') ?? error;
    }
  }

  /** Deactivates a user and ends all their sessions at once. */
  async deactivate(
    tenantId: string,
    id: string,
    actorId: string,
    reason: string | null | undefined,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<User> {
    if (id === actorId)
      throw HmsError.conflict('You cannot deactivate your own account; ask another administrator.');
    const { user, revoked } = await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const user = await this.findUser(em, id);
      if (user.status === 'deactivated') return { user, revoked: [] };
      await this.keepAnAdministrator(em, user.id);
      const now = new Date();
      user.status = 'deactivated';
      user.statusChangedAt = now;
      user.deactivationReason = reason?.trim().slice(0, 500) || 'deactivated by an administrator';
      user.updatedAt = now;
      const revoked = await this.sessions.revokeUserSessions(
        em,
        origin,
        user.id,
        RevokeReason.userDeactivated,
        now,
      );
      await emit(
        em,
        origin,
        {
          type: 'identity.user.deactivated',
          tenantId,
          subject: { type: 'User', id: user.id },
          payloadSchema: UserDeactivatedSchema,
          payload: { userId: user.id },
        },
        { action: 'user.deactivate', operation: Operation.UPDATE, changedFields: ['status'] },
      );
      return { user, revoked };
    });
    await this.sessions.announceRevoked(tenantId, revoked);
    this.deps.logger.info(
      { userId: id, actorId, sessions: revoked.length },
      'Deactivated a user and revoked their sessions.',
    );
    return user;
  }

  async reactivate(tenantId: string, id: string, origin: EventOrigin = SYSTEM_ORIGIN): Promise<User> {
    return inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const user = await this.findUser(em, id);
      if (user.status === 'active') return user;
      const now = new Date();
      user.status = 'active';
      user.statusChangedAt = now;
      user.deactivationReason = null;
      user.failedLoginCount = 0;
      user.lockedUntil = null;
      user.updatedAt = now;
      await emit(
        em,
        origin,
        {
          type: 'identity.user.reactivated',
          tenantId,
          subject: { type: 'User', id: user.id },
          payloadSchema: UserReactivatedSchema,
          payload: { userId: user.id },
        },
        { action: 'user.reactivate', operation: Operation.UPDATE, changedFields: ['status'] },
      );
      return user;
    });
  }

  /** Replaces the roles of a user. Takes effect at their next token refresh, within the access token lifetime. */
  async setRoles(
    tenantId: string,
    id: string,
    roleNames: string[],
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<User> {
    return inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const user = await this.findUser(em, id);
      const roles = await this.rolesByName(em, roleNames, 'roles');
      if (!roles.some((role) => role.name === TENANT_ADMIN_ROLE)) await this.keepAnAdministrator(em, user.id);

      const now = new Date();
      const current = await em.find(UserRole, { userId: user.id });
      const oldRoles = current.length
        ? (await em.find(Role, { id: { $in: current.map((link) => link.roleId) } })).map((role) => role.name)
        : [];
      const wanted = new Set(roles.map((role) => role.id));
      for (const link of current) if (!wanted.has(link.roleId)) em.remove(link);
      const kept = new Set(current.map((link) => link.roleId));
      for (const role of roles) {
        if (!kept.has(role.id))
          em.create(UserRole, { tenantId, userId: user.id, roleId: role.id, createdAt: now });
      }
      user.updatedAt = now;
      await emit(
        em,
        origin,
        {
          type: 'identity.user.roles_changed',
          tenantId,
          subject: { type: 'User', id: user.id },
          payloadSchema: UserRolesChangedSchema,
          payload: {
            userId: user.id,
            oldRoles: oldRoles.sort(),
            newRoles: roles.map((role) => role.name).sort(),
          },
        },
        { action: 'user.roles_change', operation: Operation.PERMISSION_CHANGE, changedFields: ['roles'] },
      );
      return user;
    });
  }

  /**
   * Changes the caller's own password after checking the current one and the tenant's policy. Other
   * sessions of the user end, because a password change is what a user does after a suspected leak.
   *
   * Wrong current passwords count towards the sign-in lockout. Otherwise a stolen access token would
   * allow guessing the password without limit; reaching the lockout also ends every session.
   */
  async changePassword(
    tenantId: string,
    userId: string,
    sessionId: string,
    currentPassword: string,
    newPassword: string,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<void> {
    const tenant = await this.tenant(tenantId);
    const policy = passwordPolicyOf(tenant);

    const outcome = await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const user = await this.findUser(em, userId);
      const now = new Date();
      if (user.lockedUntil && user.lockedUntil.getTime() > now.getTime())
        return { kind: 'locked' as const, revoked: [] };

      if (!(await this.deps.passwords.verify(user.passwordHash, currentPassword))) {
        user.failedLoginCount += 1;
        if (user.failedLoginCount < policy.lockoutThreshold) return { kind: 'wrong' as const, revoked: [] };
        user.failedLoginCount = 0;
        user.lockedUntil = new Date(now.getTime() + policy.lockoutMinutes * 60_000);
        const revoked = await this.sessions.revokeUserSessions(
          em,
          origin,
          user.id,
          RevokeReason.lockedOut,
          now,
        );
        await emitAccountLocked(em, origin, user, policy.lockoutThreshold);
        return { kind: 'locked' as const, revoked };
      }

      await this.checkNewPassword(em, user, newPassword, policy, 'newPassword');
      await replacePasswordHash(em, user, await this.deps.passwords.hash(newPassword), policy, now);
      user.passwordResetRequired = false;
      user.failedLoginCount = 0;
      const revoked = await this.sessions.revokeUserSessions(
        em,
        origin,
        user.id,
        RevokeReason.passwordChanged,
        now,
        sessionId,
      );
      await emitPasswordChanged(em, origin, user, false);
      return { kind: 'changed' as const, revoked };
    });

    await this.sessions.announceRevoked(tenantId, outcome.revoked);
    if (outcome.kind === 'wrong')
      throw HmsError.badUserInput([{ field: 'currentPassword', message: 'is not the current password' }]);
    if (outcome.kind === 'locked') {
      this.deps.logger.warn(
        { userId, sessions: outcome.revoked.length },
        'Locked an account after repeated wrong current passwords.',
      );
      throw HmsError.forbiddenBecause(
        'The account is locked after repeated failed attempts; try again later or ask an administrator.',
      );
    }
  }

  /**
   * Sets a password chosen by an administrator, for a user who forgot theirs or is locked out. The user
   * must replace it at the next sign-in, and their sessions end.
   */
  async resetPassword(
    tenantId: string,
    id: string,
    newPassword: string,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<User> {
    const tenant = await this.tenant(tenantId);
    const policy = passwordPolicyOf(tenant);
    const { user, revoked } = await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const user = await this.findUser(em, id);
      await this.checkNewPassword(em, user, newPassword, policy, 'newPassword');
      const now = new Date();
      await replacePasswordHash(em, user, await this.deps.passwords.hash(newPassword), policy, now);
      user.passwordResetRequired = true;
      user.failedLoginCount = 0;
      user.lockedUntil = null;
      const revoked = await this.sessions.revokeUserSessions(
        em,
        origin,
        user.id,
        RevokeReason.passwordReset,
        now,
      );
      await emitPasswordChanged(em, origin, user, true);
      return { user, revoked };
    });
    await this.sessions.announceRevoked(tenantId, revoked);
    return user;
  }

  private async checkNewPassword(
    em: EntityManager,
    user: User,
    password: string,
    policy: PasswordPolicy,
    field: string,
  ): Promise<void> {
    const errors = new InputErrors();
    checkPasswordRules(errors, field, password, policy, [user.email, user.phone]);
    errors.throwIfAny();
    if (await isRecentPassword(em, this.deps.passwords, user, password, policy)) {
      throw HmsError.badUserInput([
        { field, message: `must differ from the last ${policy.historyCount} passwords` },
      ]);
    }
  }

  private async tenant(tenantId: string): Promise<Tenant> {
    const tenant = await inTenantTransaction(this.deps.orm, tenantId, (em) =>
      em.findOne(Tenant, { id: tenantId }),
    );
    if (!tenant) throw HmsError.notFound('Tenant', tenantId);
    return tenant;
  }

  private async findUser(em: EntityManager, id: string): Promise<User> {
    const user = isUuid(id) ? await em.findOne(User, { id }) : null;
    if (!user) throw HmsError.notFound('User', id);
    return user;
  }

  private async rolesByName(em: EntityManager, names: string[], field: string): Promise<Role[]> {
    const wanted = [...new Set(names.map((name) => name.trim()))];
    const roles = wanted.length ? await em.find(Role, { name: { $in: wanted } }) : [];
    const missing = wanted.filter((name) => !roles.some((role) => role.name === name));
    if (missing.length > 0)
      throw HmsError.badUserInput([{ field, message: `unknown roles: ${missing.join(', ')}` }]);
    return roles;
  }

  /** Refuses a change that would leave the tenant without an active administrator, who alone can fix it. */
  private async keepAnAdministrator(em: EntityManager, losingUserId: string): Promise<void> {
    const adminRole = await em.findOne(Role, { name: TENANT_ADMIN_ROLE, builtIn: true });
    if (!adminRole) return;
    const holders = await em.find(UserRole, { roleId: adminRole.id, userId: { $ne: losingUserId } });
    const others = holders.length
      ? await em.count(User, { id: { $in: holders.map((holder) => holder.userId) }, status: 'active' })
      : 0;
    if (others === 0) throw HmsError.conflict('The tenant must keep at least one active tenant_admin.');
  }
}

/** Profile fields whose changes user.updated names, as the API names them. */
const PROFILE_FIELDS = ['givenName', 'familyName', 'displayName', 'email', 'phone'] as const;

function profileOf(user: User): Record<(typeof PROFILE_FIELDS)[number], string | null> {
  return {
    givenName: user.givenName ?? null,
    familyName: user.familyName ?? null,
    displayName: user.displayName ?? null,
    email: user.email ?? null,
    phone: user.phone ?? null,
  };
}

/** Writes identity.user.created and its CREATE audit record; tenant creation uses it for the first admin. */
export async function emitUserCreated(
  em: EntityManager,
  origin: EventOrigin,
  user: User,
  roles: readonly Role[],
): Promise<void> {
  await emit(
    em,
    origin,
    {
      type: 'identity.user.created',
      tenantId: user.tenantId,
      subject: { type: 'User', id: user.id },
      payloadSchema: UserCreatedSchema,
      payload: { userId: user.id, roles: roles.map((role) => role.name).sort() },
    },
    { action: 'user.create', operation: Operation.CREATE },
  );
}

/** Writes identity.account.locked and its SECURITY audit record. */
export async function emitAccountLocked(
  em: EntityManager,
  origin: EventOrigin,
  user: User,
  failedAttempts: number,
): Promise<void> {
  await emit(
    em,
    origin,
    {
      type: 'identity.account.locked',
      tenantId: user.tenantId,
      subject: { type: 'User', id: user.id },
      payloadSchema: AccountLockedSchema,
      payload: {
        userId: user.id,
        lockedUntil: user.lockedUntil ? timestampFromDate(user.lockedUntil) : undefined,
        failedAttempts,
      },
    },
    { action: 'account.lock', operation: Operation.SECURITY },
  );
}

async function emitPasswordChanged(
  em: EntityManager,
  origin: EventOrigin,
  user: User,
  resetByAdministrator: boolean,
): Promise<void> {
  await emit(
    em,
    origin,
    {
      type: 'identity.password.changed',
      tenantId: user.tenantId,
      subject: { type: 'User', id: user.id },
      payloadSchema: PasswordChangedSchema,
      payload: { userId: user.id, resetByAdministrator },
    },
    {
      action: resetByAdministrator ? 'password.reset' : 'password.change',
      operation: Operation.UPDATE,
      changedFields: ['password'],
    },
  );
}
