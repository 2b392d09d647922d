import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';
import { DOCUMENT_STATUSES } from './note.js';

/** The discharge summary of an INPATIENT encounter. Its content lives in summary versions. */
export const DischargeSummary = defineEntity({
  name: 'DischargeSummary',
  tableName: 'discharge_summaries',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    encounterId: p.uuid(),
    patientId: p.uuid(),
    status: p.enum(DOCUMENT_STATUSES),
    authorId: p.uuid(),
    currentVersion: p.integer(),
    signedAt: p.datetime().nullable(),
    signedBy: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type DischargeSummary = InferEntity<typeof DischargeSummary>;
