import {
  HmsError,
  requirePermission,
  requirePrincipal,
  requireTenant,
  type SubgraphContext,
} from '@hms/service-kit';
import type { User } from '../entities/user.js';
import { tenantLoader, userLoader, userRolesLoader } from '../graphql/loaders.js';
import { viewerOf } from '../graphql/viewer.js';
import { roleGrant } from '../roles/user-roles.js';
import type { IdentityServices } from '../services.js';
import type { CreateUserInput, UpdateUserInput, UserStatus } from './user-service.js';

/**
 * Tells whether the viewer may see a user's contact details, status and roles: the user themselves
 * and holders of user:read in the same tenant. Colleagues resolving a reference (a note's author) see the
 * name only.
 */
function maySeeDetails(context: SubgraphContext, user: User): boolean {
  const viewer = viewerOf(context);
  if (!viewer || viewer.tenantId !== user.tenantId) return false;
  return viewer.subjectId === user.id || viewer.has('user:read');
}

function detail<T>(read: (user: User) => T) {
  return (user: User, _: unknown, context: SubgraphContext): T | null =>
    maySeeDetails(context, user) ? read(user) : null;
}

function requireUserManager(context: SubgraphContext): { tenantId: string; actorId: string } {
  const principal = requirePermission(context, 'user:manage');
  return { tenantId: requireTenant(context), actorId: principal.subject };
}

export function userResolvers(services: IdentityServices) {
  const roleNames = async (user: User, context: SubgraphContext) =>
    roleGrant(await userRolesLoader(context, services, user.tenantId).load(user.id));

  return {
    UserStatus: { ACTIVE: 'active', DEACTIVATED: 'deactivated' },

    Query: {
      me: async (_: unknown, __: unknown, context: SubgraphContext) => {
        const tenantId = requireTenant(context);
        const userId = requirePrincipal(context).subject;
        const user = await userLoader(context, services, tenantId).load(userId);
        if (!user) throw HmsError.notFound('User', userId);
        return user;
      },
      user: (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, 'user:read');
        return userLoader(context, services, requireTenant(context)).load(args.id);
      },
      users: (
        _: unknown,
        args: {
          search?: string | null;
          status?: UserStatus | null;
          first?: number | null;
          after?: string | null;
        },
        context: SubgraphContext,
      ) => {
        requirePermission(context, 'user:read');
        return services.users.list(requireTenant(context), args);
      },
    },

    Mutation: {
      createUser: (_: unknown, args: { input: CreateUserInput }, context: SubgraphContext) =>
        services.users.create(requireUserManager(context).tenantId, args.input, context),
      updateUser: (_: unknown, args: { id: string; input: UpdateUserInput }, context: SubgraphContext) =>
        services.users.update(requireUserManager(context).tenantId, args.id, args.input, context),
      deactivateUser: (
        _: unknown,
        args: { id: string; reason?: string | null },
        context: SubgraphContext,
      ) => {
        const { tenantId, actorId } = requireUserManager(context);
        return services.users.deactivate(tenantId, args.id, actorId, args.reason, context);
      },
      reactivateUser: (_: unknown, args: { id: string }, context: SubgraphContext) =>
        services.users.reactivate(requireUserManager(context).tenantId, args.id, context),
      setUserRoles: (_: unknown, args: { id: string; roles: string[] }, context: SubgraphContext) =>
        services.users.setRoles(requireUserManager(context).tenantId, args.id, args.roles, context),
      resetUserPassword: (_: unknown, args: { id: string; newPassword: string }, context: SubgraphContext) =>
        services.users.resetPassword(
          requireUserManager(context).tenantId,
          args.id,
          args.newPassword,
          context,
        ),
      changePassword: async (
        _: unknown,
        args: { currentPassword: string; newPassword: string },
        context: SubgraphContext,
      ) => {
        const tenantId = requireTenant(context);
        const principal = requirePrincipal(context);
        await services.users.changePassword(
          tenantId,
          principal.subject,
          principal.sessionId,
          args.currentPassword,
          args.newPassword,
          context,
        );
        return true;
      },
    },

    User: {
      /**
       * Resolves references from other subgraphs, batched into one query per request and tenant. Only
       * the caller's tenant is searched, so another tenant's user is null, never an error that would
       * confirm it exists.
       */
      __resolveReference: (reference: { id: string }, context: SubgraphContext) => {
        const tenantId = viewerOf(context)?.tenantId;
        if (!tenantId) return null;
        return userLoader(context, services, tenantId).load(reference.id);
      },
      tenant: (user: User, _: unknown, context: SubgraphContext) =>
        tenantLoader(context, services).load(user.tenantId),
      email: detail((user) => user.email ?? null),
      phone: detail((user) => user.phone ?? null),
      status: detail((user) => user.status),
      lastLoginAt: detail((user) => user.lastLoginAt ?? null),
      passwordChangedAt: detail((user) => user.passwordChangedAt),
      lockedUntil: (user: User, _: unknown, context: SubgraphContext) => {
        const viewer = viewerOf(context);
        if (viewer?.tenantId !== user.tenantId || !viewer.has('user:read')) return null;
        return user.lockedUntil && user.lockedUntil.getTime() > Date.now() ? user.lockedUntil : null;
      },
      roles: async (user: User, _: unknown, context: SubgraphContext) =>
        maySeeDetails(context, user) ? (await roleNames(user, context)).roles : null,
      permissions: async (user: User, _: unknown, context: SubgraphContext) =>
        maySeeDetails(context, user) ? (await roleNames(user, context)).perms : null,
    },
  };
}
