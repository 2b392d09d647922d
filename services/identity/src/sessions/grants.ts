import type { EntityManager } from '@hms/service-kit';
import { PlatformOperator } from '../entities/platform-operator.js';
import { Tenant } from '../entities/tenant.js';
import { User } from '../entities/user.js';
import { PLATFORM_OPERATOR_ROLE, PLATFORM_PERMISSIONS } from '../roles/permissions.js';
import { roleGrant, rolesOfUsers } from '../roles/user-roles.js';
import { passwordPolicyOf } from '../tenants/settings.js';
import { passwordChangeRequired } from '../users/password-policy.js';
import type { Grant } from './access-tokens.js';

/** Reason that a known principal gets no token now. */
export type Denial =
  | { kind: 'tenant_unavailable'; tenantStatus: string }
  /** Deactivated, deactivated just now for inactivity, or gone; the session ends. */
  | { kind: 'user_unavailable'; reason: string };

export type GrantDecision = { kind: 'granted'; grant: Grant; user?: User } | Denial;

/**
 * Tells whether a user has been inactive longer than the tenant allows. Activity is the later of the
 * last sign-in or refresh and the last status change, so a user reactivated yesterday is not at once
 * deactivated again for the months before.
 */
export function inactiveTooLong(user: User, tenant: Tenant, now: Date): boolean {
  if (tenant.inactiveUserDisableDays === 0) return false;
  const lastActivity = Math.max(user.lastActiveAt?.getTime() ?? 0, user.statusChangedAt.getTime());
  return now.getTime() - lastActivity > tenant.inactiveUserDisableDays * 86_400_000;
}

/**
 * Decides the claims of a tenant user's token, inside that tenant's transaction. It also deactivates a
 * user past the tenant's inactivity limit: sign-in and refresh are the only moments an inactive account
 * could be used, so this is where that setting is enforced.
 */
export async function tenantUserGrant(
  em: EntityManager,
  tenant: Tenant,
  user: User,
  now: Date,
): Promise<GrantDecision> {
  if (tenant.status !== 'active') return { kind: 'tenant_unavailable', tenantStatus: tenant.status };
  if (user.status !== 'active') return { kind: 'user_unavailable', reason: 'deactivated' };
  if (inactiveTooLong(user, tenant, now)) {
    user.status = 'deactivated';
    user.statusChangedAt = now;
    user.deactivationReason = 'inactivity';
    user.updatedAt = now;
    return { kind: 'user_unavailable', reason: 'inactivity' };
  }

  const roles = (await rolesOfUsers(em, [user.id])).get(user.id) ?? [];
  return {
    kind: 'granted',
    user,
    grant: {
      typ: 'user',
      subjectId: user.id,
      tenantId: tenant.id,
      ...roleGrant(roles),
      passwordChangeRequired: passwordChangeRequired(user, passwordPolicyOf(tenant), now),
    },
  };
}

/** Loads the tenant and user of a tenant session again at refresh time and decides its next token. */
export async function regrantTenantUser(
  em: EntityManager,
  tenantId: string,
  userId: string,
  now: Date,
): Promise<GrantDecision> {
  const tenant = await em.findOne(Tenant, { id: tenantId });
  const user = await em.findOne(User, { id: userId });
  if (!tenant || !user) return { kind: 'user_unavailable', reason: 'missing' };
  const decision = await tenantUserGrant(em, tenant, user, now);
  if (decision.kind === 'granted') user.lastActiveAt = now;
  return decision;
}

export function platformOperatorGrant(operator: PlatformOperator): Grant {
  return {
    typ: 'platform',
    subjectId: operator.id,
    roles: [PLATFORM_OPERATOR_ROLE],
    perms: [...PLATFORM_PERMISSIONS],
    passwordChangeRequired: false,
  };
}

export async function regrantPlatformOperator(em: EntityManager, operatorId: string): Promise<GrantDecision> {
  const operator = await em.findOne(PlatformOperator, { id: operatorId });
  if (!operator) return { kind: 'user_unavailable', reason: 'missing' };
  return { kind: 'granted', grant: platformOperatorGrant(operator) };
}
