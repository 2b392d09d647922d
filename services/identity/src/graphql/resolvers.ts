import { scalarResolvers } from '@hms/service-kit';
import { keyResolvers } from '../keys/resolvers.js';
import { roleResolvers } from '../roles/resolvers.js';
import { sessionResolvers } from '../sessions/resolvers.js';
import { tenantResolvers } from '../tenants/resolvers.js';
import { userResolvers } from '../users/resolvers.js';
import type { IdentityServices } from '../services.js';

type ResolverMap = Record<string, Record<string, unknown>>;

/** Merges the resolvers of each concept into one map; a type may get fields from several concepts. */
export function buildResolvers(services: IdentityServices): ResolverMap {
  const merged: ResolverMap = { ...scalarResolvers } as unknown as ResolverMap;
  const parts: ResolverMap[] = [
    tenantResolvers(services),
    userResolvers(services),
    roleResolvers(services),
    sessionResolvers(services),
    keyResolvers(services),
  ];
  for (const part of parts) {
    for (const [typeName, fields] of Object.entries(part))
      merged[typeName] = { ...merged[typeName], ...fields };
  }
  return merged;
}
