import type {
  ALLERGY_CATEGORIES,
  ALLERGY_CRITICALITIES,
  ALLERGY_TYPES,
  AllergyClinicalStatus,
  AllergyVerificationStatus,
  REACTION_SEVERITIES,
} from '../entities/allergy.js';
import type { CodedConceptInput } from '../records/input.js';

/** GraphQL input types of the allergy schema, as the resolvers receive them. */
export interface AllergyReactionInput {
  manifestation: CodedConceptInput;
  severity?: (typeof REACTION_SEVERITIES)[number] | null;
  description?: string | null;
  onsetAt?: Date | null;
}

export interface RecordAllergyInput {
  patientId: string;
  encounterId?: string | null;
  sourceId?: string | null;
  substance: CodedConceptInput;
  type?: (typeof ALLERGY_TYPES)[number] | null;
  category: (typeof ALLERGY_CATEGORIES)[number];
  criticality?: (typeof ALLERGY_CRITICALITIES)[number] | null;
  clinicalStatus?: AllergyClinicalStatus | null;
  verificationStatus?: AllergyVerificationStatus | null;
  reactions?: AllergyReactionInput[] | null;
  onsetAt?: Date | null;
  note?: string | null;
  recordedAt?: Date | null;
}

export interface UpdateAllergyStatusInput {
  clinicalStatus?: AllergyClinicalStatus | null;
  verificationStatus?: AllergyVerificationStatus | null;
  reason: string;
}
