import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** A department of a tenant, such as cardiology. Encounters and wards may name one. */
export const Department = defineEntity({
  name: 'Department',
  tableName: 'departments',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    code: p.text(),
    name: p.text(),
    createdAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Department = InferEntity<typeof Department>;
