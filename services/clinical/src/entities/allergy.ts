import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const ALLERGY_TYPES = ['ALLERGY', 'INTOLERANCE'] as const;
export const ALLERGY_CATEGORIES = ['MEDICATION', 'FOOD', 'ENVIRONMENT', 'BIOLOGIC'] as const;
export const ALLERGY_CRITICALITIES = ['LOW', 'HIGH', 'UNABLE_TO_ASSESS'] as const;
export const ALLERGY_CLINICAL_STATUSES = ['ACTIVE', 'INACTIVE', 'RESOLVED'] as const;
export const ALLERGY_VERIFICATION_STATUSES = [
  'UNCONFIRMED',
  'CONFIRMED',
  'REFUTED',
  'ENTERED_IN_ERROR',
] as const;
export const REACTION_SEVERITIES = ['MILD', 'MODERATE', 'SEVERE'] as const;
export const SUBSTANCE_SYSTEMS = ['RXNORM', 'SNOMED_CT'] as const;

export type AllergyClinicalStatus = (typeof ALLERGY_CLINICAL_STATUSES)[number];
export type AllergyVerificationStatus = (typeof ALLERGY_VERIFICATION_STATUSES)[number];

/** A reaction as stored in the reactions column; onsetAt is an ISO 8601 instant. */
export interface ReactionValue {
  manifestation: { system: string | null; code: string | null; display: string };
  severity: (typeof REACTION_SEVERITIES)[number] | null;
  description: string | null;
  onsetAt: string | null;
}

/**
 * An allergy or intolerance (FHIR AllergyIntolerance). `substanceKey` is the substance name folded
 * for matching against prescriptions. The clinical status is null exactly when the verification
 * status is ENTERED_IN_ERROR, as FHIR requires.
 */
export const Allergy = defineEntity({
  name: 'Allergy',
  tableName: 'allergies',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    encounterId: p.uuid().nullable(),
    sourceId: p.text().nullable(),
    substanceSystem: p.enum(SUBSTANCE_SYSTEMS).nullable(),
    substanceCode: p.text().nullable(),
    substanceDisplay: p.text(),
    substanceKey: p.text(),
    type: p.enum(ALLERGY_TYPES).nullable(),
    category: p.enum(ALLERGY_CATEGORIES),
    criticality: p.enum(ALLERGY_CRITICALITIES).nullable(),
    clinicalStatus: p.enum(ALLERGY_CLINICAL_STATUSES).nullable(),
    verificationStatus: p.enum(ALLERGY_VERIFICATION_STATUSES),
    reactions: p.json<ReactionValue[]>(),
    onsetAt: p.datetime().nullable(),
    note: p.text().nullable(),
    recordedAt: p.datetime(),
    recordedBy: p.uuid(),
    statusReason: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Allergy = InferEntity<typeof Allergy>;
