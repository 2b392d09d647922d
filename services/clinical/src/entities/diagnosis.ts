import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const CODE_SYSTEMS = ['ICD10', 'SNOMED_CT'] as const;
export type CodeSystem = (typeof CODE_SYSTEMS)[number];

/** A diagnosis of an encounter, coded or free text. A removed diagnosis stays stored with its reason. */
export const Diagnosis = defineEntity({
  name: 'Diagnosis',
  tableName: 'diagnoses',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    encounterId: p.uuid(),
    codeSystem: p.enum(CODE_SYSTEMS).nullable(),
    code: p.text().nullable(),
    text: p.text(),
    isPrimary: p.boolean(),
    recordedAt: p.datetime(),
    recordedBy: p.uuid(),
    sourceId: p.text().nullable(),
    removedAt: p.datetime().nullable(),
    removedBy: p.uuid().nullable(),
    removalReason: p.text().nullable(),
  },
  filters: tenantFilters,
});

export type Diagnosis = InferEntity<typeof Diagnosis>;
