import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** A ward of a tenant, which contains beds. */
export const Ward = defineEntity({
  name: 'Ward',
  tableName: 'wards',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    code: p.text(),
    name: p.text(),
    departmentId: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Ward = InferEntity<typeof Ward>;
