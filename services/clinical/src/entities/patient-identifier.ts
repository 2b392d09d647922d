import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const IDENTIFIER_TYPES = [
  'NATIONAL_ID',
  'PASSPORT',
  'DRIVER_LICENSE',
  'INSURANCE',
  'EXTERNAL',
  'OTHER',
] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

/** An identifier issued to a patient by some authority; (system, value) is unique within a tenant. */
export const PatientIdentifier = defineEntity({
  name: 'PatientIdentifier',
  tableName: 'patient_identifiers',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    type: p.enum(IDENTIFIER_TYPES),
    system: p.text(),
    value: p.text(),
    /** Order in which the client listed the identifiers, kept so that reads return them the same way. */
    position: p.smallint(),
  },
  filters: tenantFilters,
});

export type PatientIdentifier = InferEntity<typeof PatientIdentifier>;
