import type { CodedConceptInput } from '../records/input.js';

/** GraphQL input of addProblem, as the resolver receives it. */
export interface AddProblemInput {
  patientId: string;
  encounterId?: string | null;
  sourceId?: string | null;
  condition: CodedConceptInput;
  onsetAt?: Date | null;
  resolvedAt?: Date | null;
  note?: string | null;
  recordedAt?: Date | null;
}
