import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const BED_STATUSES = ['FREE', 'OCCUPIED', 'CLEANING', 'BLOCKED'] as const;
export type BedStatus = (typeof BED_STATUSES)[number];

/** A bed of a ward. Its status is kept in step with the bed assignments by the admission code. */
export const Bed = defineEntity({
  name: 'Bed',
  tableName: 'beds',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    wardId: p.uuid(),
    code: p.text(),
    status: p.enum(BED_STATUSES),
    blockedReason: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Bed = InferEntity<typeof Bed>;
