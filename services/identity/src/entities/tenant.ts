import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';

export const TENANT_STATUSES = ['active', 'suspended', 'offboarded'] as const;

/**
 * A hospital or clinic. A platform table: it has no tenant_id and no row-level security, because login
 * must find a tenant by slug before any tenant is known, and the app role reads it for every tenant.
 * Settings are columns rather than JSON so that each one has a type, a default and a range check.
 */
export const Tenant = defineEntity({
  name: 'Tenant',
  tableName: 'tenants',
  properties: {
    id: p.uuid().primary(),
    slug: p.string(),
    name: p.string(),
    status: p.enum(TENANT_STATUSES),
    statusReason: p.string().nullable(),
    statusChangedAt: p.datetime(),
    timeZone: p.string(),
    currency: p.string(),
    readAuditEnabled: p.boolean(),
    ageOfMajority: p.integer(),
    passwordMinLength: p.integer(),
    passwordHistoryCount: p.integer(),
    /** Days after which a password must be changed; 0 means passwords never expire. */
    passwordMaxAgeDays: p.integer(),
    lockoutThreshold: p.integer(),
    lockoutMinutes: p.integer(),
    /** Days without sign-in after which a user is deactivated; 0 turns this off. */
    inactiveUserDisableDays: p.integer(),
    patientSelfRegistration: p.boolean(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export type Tenant = InferEntity<typeof Tenant>;
