import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const ENCOUNTER_CLASSES = ['AMBULATORY', 'EMERGENCY', 'INPATIENT'] as const;
export type EncounterClass = (typeof ENCOUNTER_CLASSES)[number];

export const ENCOUNTER_STATUSES = ['OPEN', 'IN_PROGRESS', 'CLOSED', 'CANCELLED', 'ENTERED_IN_ERROR'] as const;
export type EncounterStatus = (typeof ENCOUNTER_STATUSES)[number];

/** An OPD visit, emergency visit or hospital stay of a patient. See EncounterStatus for its life cycle. */
export const Encounter = defineEntity({
  name: 'Encounter',
  tableName: 'encounters',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    encounterClass: p.enum(ENCOUNTER_CLASSES).fieldName('class'),
    status: p.enum(ENCOUNTER_STATUSES),
    /** Reason the encounter was cancelled or marked entered in error. */
    statusReason: p.text().nullable(),
    chiefComplaint: p.text().nullable(),
    departmentId: p.uuid().nullable(),
    /** Id of an identity User. */
    attendingId: p.uuid(),
    startedAt: p.datetime(),
    endedAt: p.datetime().nullable(),
    /** Opaque external reference of an imported encounter, unique within the tenant. */
    sourceId: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Encounter = InferEntity<typeof Encounter>;
