import type { Problem } from '../entities/problem.js';
import { conceptView, userReference, type ConceptView } from '../records/view.js';

/** A problem exactly as the Problem type serves it. */
export interface ProblemView {
  id: string;
  patientId: string;
  encounterId: string | null;
  condition: ConceptView;
  status: string;
  onsetAt: Date | null;
  resolvedAt: Date | null;
  note: string | null;
  recordedAt: Date;
  recorder: { __typename: 'User'; id: string };
  sourceId: string | null;
  updatedAt: Date;
}

export function problemView(problem: Problem): ProblemView {
  return {
    id: problem.id,
    patientId: problem.patientId,
    encounterId: problem.encounterId ?? null,
    condition: conceptView(problem.conditionSystem, problem.conditionCode, problem.conditionDisplay),
    status: problem.status,
    onsetAt: problem.onsetAt ?? null,
    resolvedAt: problem.resolvedAt ?? null,
    note: problem.note ?? null,
    recordedAt: problem.recordedAt,
    recorder: userReference(problem.recordedBy),
    sourceId: problem.sourceId ?? null,
    updatedAt: problem.updatedAt,
  };
}
