import type { EntityManager } from '@hms/service-kit';
import { Role, UserRole } from '../entities/role.js';
import { permissionsOfRole } from './permissions.js';

/** Loads the roles of several users of the current tenant in two queries, for batching. */
export async function rolesOfUsers(
  em: EntityManager,
  userIds: readonly string[],
): Promise<Map<string, Role[]>> {
  const result = new Map<string, Role[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return result;
  const links = await em.find(UserRole, { userId: { $in: [...userIds] } });
  const roleIds = [...new Set(links.map((link) => link.roleId))];
  const roles = roleIds.length ? await em.find(Role, { id: { $in: roleIds } }) : [];
  const byId = new Map(roles.map((role) => [role.id, role]));
  for (const link of links) {
    const role = byId.get(link.roleId);
    if (role) result.get(link.userId)?.push(role);
  }
  for (const list of result.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  return result;
}

/** Role names and the union of their permissions, sorted, as they go into a token. */
export function roleGrant(roles: readonly Role[]): { roles: string[]; perms: string[] } {
  const perms = new Set<string>();
  for (const role of roles) for (const permission of permissionsOfRole(role)) perms.add(permission);
  return { roles: roles.map((role) => role.name).sort(), perms: [...perms].sort() };
}
