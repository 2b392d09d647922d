import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** One period a patient spent in one bed, from startedAt up to (excluding) endedAt. The table's exclusion constraint rejects overlapping periods of a bed. */
export const BedAssignment = defineEntity({
  name: 'BedAssignment',
  tableName: 'bed_assignments',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    encounterId: p.uuid(),
    patientId: p.uuid(),
    wardId: p.uuid(),
    bedId: p.uuid(),
    startedAt: p.datetime(),
    /** Null while the patient is in the bed. */
    endedAt: p.datetime().nullable(),
  },
  filters: tenantFilters,
});

export type BedAssignment = InferEntity<typeof BedAssignment>;
