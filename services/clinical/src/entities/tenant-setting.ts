import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** The age of majority when a tenant has no row in tenant_settings. */
export const DEFAULT_AGE_OF_MAJORITY = 18;

/**
 * Clinical settings of a tenant. Identity owns tenant settings, and the tenant-settings consumer
 * copies them here from identity's tenant events. A tenant without a row has the defaults.
 */
export const TenantSetting = defineEntity({
  name: 'TenantSetting',
  tableName: 'tenant_settings',
  properties: {
    tenantId: p.uuid().primary(),
    ageOfMajority: p.smallint(),
    /** Whether reads of patient data become audit records; on unless the tenant turned it off. */
    readAuditEnabled: p.boolean().default(true),
    /** IANA time zone name of the tenant, such as Asia/Kolkata; UTC until identity's first event. */
    timeZone: p.text().default('UTC'),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type TenantSetting = InferEntity<typeof TenantSetting>;
