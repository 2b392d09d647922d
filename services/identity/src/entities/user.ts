import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const USER_STATUSES = ['active', 'deactivated'] as const;

/** A member of a tenant's staff who signs in. Tenant-owned: row-level security limits it to one tenant. */
export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    givenName: p.string().nullable(),
    familyName: p.string().nullable(),
    /** Name shown in lists and by other services: the chosen display name, or given and family names joined. */
    displayName: p.string(),
    /** Email address, lowercased and unique within the tenant. */
    email: p.string().nullable(),
    /** Phone number in E.164, unique within the tenant. */
    phone: p.string().nullable(),
    status: p.enum(USER_STATUSES),
    /** When the status last changed; with lastActiveAt it decides inactivity deactivation. */
    statusChangedAt: p.datetime(),
    deactivationReason: p.string().nullable(),
    passwordHash: p.string(),
    passwordChangedAt: p.datetime(),
    /** Set when an administrator chose the password, so the user must replace it before working. */
    passwordResetRequired: p.boolean(),
    failedLoginCount: p.integer(),
    lockedUntil: p.datetime().nullable(),
    lastLoginAt: p.datetime().nullable(),
    /** Last sign-in or session refresh. */
    lastActiveAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type User = InferEntity<typeof User>;

/** A former password hash of a user, kept so that recent passwords cannot be chosen again. */
export const PasswordHistoryEntry = defineEntity({
  name: 'PasswordHistoryEntry',
  tableName: 'password_history',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    passwordHash: p.string(),
    createdAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type PasswordHistoryEntry = InferEntity<typeof PasswordHistoryEntry>;
