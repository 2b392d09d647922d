import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** The last medical record number handed out in a tenant; see patients/mrn.ts for how it is advanced. */
export const MrnCounter = defineEntity({
  name: 'MrnCounter',
  tableName: 'mrn_counters',
  properties: {
    tenantId: p.uuid().primary(),
    lastValue: p.bigint('number'),
  },
  filters: tenantFilters,
});

export type MrnCounter = InferEntity<typeof MrnCounter>;
