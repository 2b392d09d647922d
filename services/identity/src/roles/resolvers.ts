import {
  HmsError,
  requirePermission,
  requirePrincipal,
  requireTenant,
  type SubgraphContext,
} from '@hms/service-kit';
import type { Role } from '../entities/role.js';
import type { IdentityServices } from '../services.js';
import { PERMISSIONS, permissionsOfRole } from './permissions.js';
import type { CreateRoleInput, UpdateRoleInput } from './role-service.js';

export function roleResolvers(services: IdentityServices) {
  return {
    Query: {
      roles: (_: unknown, __: unknown, context: SubgraphContext) => {
        const principal = requirePrincipal(context);
        if (!principal.has('user:read') && !principal.has('role:manage'))
          throw HmsError.forbidden('user:read');
        return services.roles.list(requireTenant(context));
      },
      permissions: (_: unknown, __: unknown, context: SubgraphContext) => {
        requirePrincipal(context);
        return PERMISSIONS;
      },
    },

    Mutation: {
      createRole: (_: unknown, args: { input: CreateRoleInput }, context: SubgraphContext) => {
        requirePermission(context, 'role:manage');
        return services.roles.create(requireTenant(context), args.input, context);
      },
      updateRole: (_: unknown, args: { id: string; input: UpdateRoleInput }, context: SubgraphContext) => {
        requirePermission(context, 'role:manage');
        return services.roles.update(requireTenant(context), args.id, args.input, context);
      },
    },

    Role: {
      permissions: (role: Role) => permissionsOfRole(role),
    },
  };
}
