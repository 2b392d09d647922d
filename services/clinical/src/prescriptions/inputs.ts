import type { MEDICATION_ROUTES, PrescriptionStatus, TimeUnit } from '../entities/prescription.js';
import type { CodedConceptInput } from '../records/input.js';

/** GraphQL input types of the prescription schema, as the resolvers receive them. */
export interface QuantityInput {
  value: number;
  unit: string;
}

export interface DosageFrequencyInput {
  timesPerPeriod?: number | null;
  period?: number | null;
  periodUnit?: TimeUnit | null;
  asNeeded?: boolean | null;
  asNeededFor?: string | null;
}

export interface IssuePrescriptionInput {
  patientId: string;
  encounterId?: string | null;
  sourceId?: string | null;
  medication: CodedConceptInput;
  dose?: QuantityInput | null;
  route?: (typeof MEDICATION_ROUTES)[number] | null;
  frequency?: DosageFrequencyInput | null;
  duration?: { value: number; unit: TimeUnit } | null;
  quantity?: QuantityInput | null;
  instructions?: string | null;
  authoredAt?: Date | null;
  status?: PrescriptionStatus | null;
  statusReason?: string | null;
  allergyOverrideReason?: string | null;
}
