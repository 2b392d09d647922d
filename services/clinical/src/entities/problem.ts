import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const PROBLEM_STATUSES = ['ACTIVE', 'RECURRENCE', 'RESOLVED'] as const;
export type ProblemStatus = (typeof PROBLEM_STATUSES)[number];
export const CONDITION_SYSTEMS = ['ICD_10', 'ICD_10_CM', 'SNOMED_CT'] as const;

/** A condition on a patient's problem list; `resolvedAt` is set exactly when the status is RESOLVED. */
export const Problem = defineEntity({
  name: 'Problem',
  tableName: 'problems',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    encounterId: p.uuid().nullable(),
    sourceId: p.text().nullable(),
    conditionSystem: p.enum(CONDITION_SYSTEMS).nullable(),
    conditionCode: p.text().nullable(),
    conditionDisplay: p.text(),
    status: p.enum(PROBLEM_STATUSES),
    onsetAt: p.datetime().nullable(),
    resolvedAt: p.datetime().nullable(),
    note: p.text().nullable(),
    recordedAt: p.datetime(),
    recordedBy: p.uuid(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Problem = InferEntity<typeof Problem>;
