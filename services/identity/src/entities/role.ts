import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/**
 * A named set of permissions within a tenant. Built-in roles store no permissions: theirs come from
 * the code (roles/permissions.ts), so a release that adds a permission reaches every tenant at once.
 */
export const Role = defineEntity({
  name: 'Role',
  tableName: 'roles',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    name: p.string(),
    description: p.string().nullable(),
    builtIn: p.boolean(),
    /** Permissions of a custom role. Empty for built-in roles. */
    permissions: p.array(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Role = InferEntity<typeof Role>;

/** Assignment of a role to a user. */
export const UserRole = defineEntity({
  name: 'UserRole',
  tableName: 'user_roles',
  properties: {
    tenantId: p.uuid().primary(),
    userId: p.uuid().primary(),
    roleId: p.uuid().primary(),
    createdAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type UserRole = InferEntity<typeof UserRole>;
