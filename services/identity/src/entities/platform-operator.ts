import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';

/**
 * A person who onboards and manages tenants. Operators belong to no tenant and never see tenant users or
 * clinical data; their table is not under row-level security because it has no tenant.
 */
export const PlatformOperator = defineEntity({
  name: 'PlatformOperator',
  tableName: 'platform_operators',
  properties: {
    id: p.uuid().primary(),
    /** Stored lowercased, so uniqueness and sign-in ignore case. */
    email: p.string(),
    name: p.string(),
    passwordHash: p.string(),
    passwordChangedAt: p.datetime(),
    failedLoginCount: p.integer(),
    lockedUntil: p.datetime().nullable(),
    lastLoginAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});

export type PlatformOperator = InferEntity<typeof PlatformOperator>;
