import { HmsError, requirePrincipal, type Principal, type SubgraphContext } from '@hms/service-kit';

/**
 * Returns the caller after checking that they are a platform operator holding `permission`. A tenant
 * user with the same permission name (tenant:read) is refused: platform fields span every tenant.
 */
export function requirePlatformOperator(context: SubgraphContext, permission?: string): Principal {
  const principal = requirePrincipal(context);
  if (!principal.isPlatformOperator)
    throw HmsError.forbiddenBecause('Only platform operators can use this operation.');
  if (permission && !principal.has(permission)) throw HmsError.forbidden(permission);
  return principal;
}
