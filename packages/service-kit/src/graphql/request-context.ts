import { HmsError } from '../errors.js';
import type { Principal } from '../auth/claims.js';

/** Context object that every resolver of an HMS subgraph receives. */
export interface SubgraphContext {
  /** The verified caller, or undefined for the few anonymous operations a subgraph allows. */
  principal?: Principal;
  /** Rejection of the presented token, raised for anything but the anonymous fields. */
  rejection?: HmsError;
  requestId: string;
  traceId?: string;
  /** Client address and user agent as the gateway saw them, for audit records. */
  clientIp?: string;
  userAgent?: string;
  /** Per-request memo, e.g. for DataLoaders, so batching never crosses requests or tenants. */
  memo: Map<string, unknown>;
}

/** Returns the caller and throws UNAUTHENTICATED for an anonymous request. */
export function requirePrincipal(context: SubgraphContext): Principal {
  if (!context.principal) throw HmsError.unauthenticated();
  return context.principal;
}

/** Returns the caller after checking that they hold `permission`; throws FORBIDDEN otherwise. */
export function requirePermission(context: SubgraphContext, permission: string): Principal {
  const principal = requirePrincipal(context);
  if (!principal.has(permission)) throw HmsError.forbidden(permission);
  return principal;
}

/** Returns the caller's tenant id; platform operators hold none and are refused tenant data. */
export function requireTenant(context: SubgraphContext): string {
  const tenantId = requirePrincipal(context).tenantId;
  if (!tenantId)
    throw HmsError.forbiddenBecause(
      'This operation needs a tenant user; platform operators cannot use tenant data.',
    );
  return tenantId;
}

/** Returns the per-request value stored under `key`, creating it on first use. */
export function memoize<T>(context: SubgraphContext, key: string, create: () => T): T {
  if (!context.memo.has(key)) context.memo.set(key, create());
  return context.memo.get(key) as T;
}
