import {
  HmsError,
  InputErrors,
  inTenantTransaction,
  isUuid,
  newId,
  type EntityManager,
  type EventOrigin,
} from '@hms/service-kit';
import { Operation, RoleCreatedSchema, RoleUpdatedSchema } from '@hms/proto-schemas';
import type { IdentityDeps } from '../deps.js';
import { emit, SYSTEM_ORIGIN } from '../events.js';
import { Role } from '../entities/role.js';
import { violatedUniqueConstraint } from '../db-errors.js';
import { BUILT_IN_ROLES, isBuiltInRoleName, isPermission } from './permissions.js';

export interface CreateRoleInput {
  name: string;
  description?: string | null;
  permissions: string[];
}

export interface UpdateRoleInput {
  description?: string | null;
  permissions?: string[] | null;
}

const ROLE_NAME = /^[a-z][a-z0-9_]{1,49}$/;

/** Creates the built-in roles of a new tenant in its creation transaction. */
export function createBuiltInRoles(em: EntityManager, tenantId: string, now: Date): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const [name, definition] of Object.entries(BUILT_IN_ROLES)) {
    const role = em.create(Role, {
      id: newId(),
      tenantId,
      name,
      description: definition.description,
      builtIn: true,
      permissions: [],
      createdAt: now,
      updatedAt: now,
    });
    roles.set(name, role);
  }
  return roles;
}

function checkPermissions(errors: InputErrors, field: string, permissions: string[]): string[] {
  const unknown = permissions.filter((permission) => !isPermission(permission));
  if (unknown.length > 0) errors.add(field, `contains unknown permissions: ${unknown.join(', ')}`);
  return [...new Set(permissions)].sort();
}

/** Custom roles of a tenant; built-in roles are read-only because their permissions come from the code. */
export class RoleService {
  constructor(private readonly deps: IdentityDeps) {}

  async list(tenantId: string): Promise<Role[]> {
    return inTenantTransaction(this.deps.orm, tenantId, (em) =>
      em.find(Role, {}, { orderBy: { builtIn: 'desc', name: 'asc' } }),
    );
  }

  async create(tenantId: string, input: CreateRoleInput, origin: EventOrigin = SYSTEM_ORIGIN): Promise<Role> {
    const errors = new InputErrors();
    const name = input.name.trim();
    if (!ROLE_NAME.test(name))
      errors.add(
        'input.name',
        'must be 2 to 50 lowercase letters, digits or underscores, starting with a letter',
      );
    else if (isBuiltInRoleName(name)) errors.add('input.name', 'is the name of a built-in role');
    const description = input.description?.trim() || null;
    if (description && description.length > 500)
      errors.add('input.description', 'must be at most 500 characters');
    const permissions = checkPermissions(errors, 'input.permissions', input.permissions);
    errors.throwIfAny();

    try {
      return await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
        const now = new Date();
        const role = em.create(Role, {
          id: newId(),
          tenantId,
          name,
          description,
          builtIn: false,
          permissions,
          createdAt: now,
          updatedAt: now,
        });
        await emit(
          em,
          origin,
          {
            type: 'identity.role.created',
            tenantId,
            subject: { type: 'Role', id: role.id },
            payloadSchema: RoleCreatedSchema,
            payload: { roleId: role.id, name, permissions: [...permissions] },
          },
          { action: 'role.create', operation: Operation.PERMISSION_CHANGE },
        );
        return role;
      });
    } catch (error) {
      if (violatedUniqueConstraint(error))
        throw HmsError.conflict(`A role named ${name} already exists.`, { field: 'input.name' });
      throw error;
    }
  }

  async update(
    tenantId: string,
    id: string,
    input: UpdateRoleInput,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<Role> {
    const errors = new InputErrors();
    const permissions = input.permissions
      ? checkPermissions(errors, 'input.permissions', input.permissions)
      : undefined;
    const description = input.description === undefined ? undefined : input.description?.trim() || null;
    if (description && description.length > 500)
      errors.add('input.description', 'must be at most 500 characters');
    errors.throwIfAny();
    if (!isUuid(id)) throw HmsError.notFound('Role', id);

    return inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const role = await em.findOne(Role, { id });
      if (!role) throw HmsError.notFound('Role', id);
      if (role.builtIn) {
        throw HmsError.conflict(
          `The built-in role ${role.name} cannot be changed; create a custom role with the permissions you need.`,
        );
      }
      const oldPermissions = [...role.permissions];
      const oldDescription = role.description ?? null;
      if (permissions) role.permissions = permissions;
      if (description !== undefined) role.description = description;
      role.updatedAt = new Date();

      const changedFields = [
        ...(JSON.stringify(oldPermissions) !== JSON.stringify(role.permissions) ? ['permissions'] : []),
        ...(oldDescription !== (role.description ?? null) ? ['description'] : []),
      ];
      await emit(
        em,
        origin,
        {
          type: 'identity.role.updated',
          tenantId,
          subject: { type: 'Role', id: role.id },
          payloadSchema: RoleUpdatedSchema,
          payload: {
            roleId: role.id,
            name: role.name,
            oldPermissions,
            newPermissions: [...role.permissions],
          },
        },
        { action: 'role.update', operation: Operation.PERMISSION_CHANGE, changedFields },
      );
      return role;
    });
  }
}
