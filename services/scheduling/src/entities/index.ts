import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/**
 * Entities of the scheduling schema. The stores read and write with SQL, because intervals
 * (tstzrange), exclusion constraints and slot arithmetic do not map onto the ORM. These definitions
 * give the ORM and the migration job the tables, with the tenant filter on each.
 */
export const TenantSetting = defineEntity({
  name: 'TenantSetting',
  tableName: 'tenant_settings',
  properties: {
    tenantId: p.uuid().primary(),
    timeZone: p.text(),
    readAuditEnabled: p.boolean(),
    status: p.text(),
    statusChangedAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export const Appointment = defineEntity({
  name: 'Appointment',
  tableName: 'appointments',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    practitionerId: p.uuid(),
    patientId: p.uuid(),
    department: p.text(),
    location: p.text().nullable(),
    during: p.text().columnType('tstzrange'),
    status: p.text(),
    kind: p.text(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

/** Every entity of the scheduling service, for the ORM and the migration job. */
export const entities = [TenantSetting, Appointment];
