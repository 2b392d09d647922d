import {
  HmsError,
  requirePermission,
  requirePrincipal,
  requireTenant,
  type SubgraphContext,
} from '@hms/service-kit';
import type { Actor } from './store.js';

/** Permissions of the encounter area, as identity grants them to roles. */
export const ENCOUNTER_READ = 'encounter:read';
export const ENCOUNTER_WRITE = 'encounter:write';
export const NOTE_READ = 'note:read';
export const NOTE_WRITE = 'note:write';
export const NURSING_NOTE_WRITE = 'nursing_note:write';
export const WARD_MANAGE = 'ward:manage';
export const ADMISSION_WRITE = 'admission:write';
export const BED_UPDATE = 'bed:update';

/** Permissions that let a user read wards, beds and the census: managing, admitting, turning over beds, or reading encounters. */
export const WARD_READERS = [WARD_MANAGE, ADMISSION_WRITE, BED_UPDATE, ENCOUNTER_READ];

/** Returns the tenant after checking `permission`. Throws FORBIDDEN or UNAUTHENTICATED otherwise. */
export function tenantWith(context: SubgraphContext, permission: string): string {
  requirePermission(context, permission);
  return requireTenant(context);
}

/** Returns the tenant after checking that the caller has at least one of `permissions`. */
export function tenantWithAny(context: SubgraphContext, permissions: readonly string[]): string {
  const principal = requirePrincipal(context);
  if (!permissions.some((permission) => principal.has(permission))) {
    throw HmsError.forbiddenBecause(
      `One of the permissions ${permissions.join(', ')} is required for this operation.`,
    );
  }
  return requireTenant(context);
}

/** Returns the caller as the actor of a write: the default attending, author or recorder. */
export function actorOf(context: SubgraphContext): Actor {
  return { userId: requirePrincipal(context).subject, origin: context };
}
