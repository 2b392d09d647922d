import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const GUARDIAN_RELATIONSHIPS = [
  'MOTHER',
  'FATHER',
  'PARENT',
  'LEGAL_GUARDIAN',
  'GRANDPARENT',
  'SIBLING',
  'OTHER',
] as const;
export type GuardianRelationship = (typeof GUARDIAN_RELATIONSHIPS)[number];

/** A person responsible for a patient, required while the patient is a minor. */
export const PatientGuardian = defineEntity({
  name: 'PatientGuardian',
  tableName: 'patient_guardians',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    givenNames: p.json<string[]>(),
    familyName: p.text(),
    namePrefix: p.json<string[]>(),
    nameSuffix: p.json<string[]>(),
    relationship: p.enum(GUARDIAN_RELATIONSHIPS),
    phone: p.text().nullable(),
    email: p.text().nullable(),
    position: p.smallint(),
  },
  filters: tenantFilters,
});

export type PatientGuardian = InferEntity<typeof PatientGuardian>;
