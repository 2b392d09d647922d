import DataLoader from 'dataloader';
import { inTenantTransaction, memoize, type SubgraphContext } from '@hms/service-kit';
import type { Role } from '../entities/role.js';
import type { Tenant } from '../entities/tenant.js';
import type { User } from '../entities/user.js';
import { rolesOfUsers } from '../roles/user-roles.js';
import type { IdentityServices } from '../services.js';

/**
 * Per-request DataLoaders. Each is keyed by tenant as well as kept per request, so a batch never mixes
 * tenants and a cached row never outlives the request that read it.
 */
export function userLoader(
  context: SubgraphContext,
  services: IdentityServices,
  tenantId: string,
): DataLoader<string, User | null> {
  return memoize(
    context,
    `users:${tenantId}`,
    () =>
      new DataLoader<string, User | null>(async (ids) => {
        const users = await services.users.getMany(tenantId, ids);
        return ids.map((id) => users.get(id) ?? null);
      }),
  );
}

export function userRolesLoader(
  context: SubgraphContext,
  services: IdentityServices,
  tenantId: string,
): DataLoader<string, Role[]> {
  return memoize(
    context,
    `user-roles:${tenantId}`,
    () =>
      new DataLoader<string, Role[]>(async (userIds) => {
        const roles = await inTenantTransaction(services.deps.orm, tenantId, (em) =>
          rolesOfUsers(em, userIds),
        );
        return userIds.map((id) => roles.get(id) ?? []);
      }),
  );
}

export function tenantLoader(
  context: SubgraphContext,
  services: IdentityServices,
): DataLoader<string, Tenant | null> {
  return memoize(
    context,
    'tenants',
    () =>
      new DataLoader<string, Tenant | null>(async (ids) => {
        const tenants = await services.tenants.getMany(ids);
        return ids.map((id) => tenants.get(id) ?? null);
      }),
  );
}
