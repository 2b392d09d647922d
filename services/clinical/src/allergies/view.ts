import type { Allergy } from '../entities/allergy.js';
import { conceptView, userReference, type ConceptView } from '../records/view.js';

/** An allergy exactly as the AllergyIntolerance type serves it. */
export interface AllergyView {
  id: string;
  patientId: string;
  encounterId: string | null;
  substance: ConceptView;
  type: string | null;
  category: string;
  criticality: string | null;
  clinicalStatus: string | null;
  verificationStatus: string;
  reactions: {
    manifestation: ConceptView;
    severity: string | null;
    description: string | null;
    onsetAt: Date | null;
  }[];
  onsetAt: Date | null;
  note: string | null;
  recordedAt: Date;
  recorder: { __typename: 'User'; id: string };
  statusReason: string | null;
  sourceId: string | null;
  updatedAt: Date;
}

export function allergyView(allergy: Allergy): AllergyView {
  return {
    id: allergy.id,
    patientId: allergy.patientId,
    encounterId: allergy.encounterId ?? null,
    substance: conceptView(allergy.substanceSystem, allergy.substanceCode, allergy.substanceDisplay),
    type: allergy.type ?? null,
    category: allergy.category,
    criticality: allergy.criticality ?? null,
    clinicalStatus: allergy.clinicalStatus ?? null,
    verificationStatus: allergy.verificationStatus,
    reactions: allergy.reactions.map((reaction) => ({
      manifestation: conceptView(
        reaction.manifestation.system,
        reaction.manifestation.code,
        reaction.manifestation.display,
      ),
      severity: reaction.severity,
      description: reaction.description,
      onsetAt: reaction.onsetAt ? new Date(reaction.onsetAt) : null,
    })),
    onsetAt: allergy.onsetAt ?? null,
    note: allergy.note ?? null,
    recordedAt: allergy.recordedAt,
    recorder: userReference(allergy.recordedBy),
    statusReason: allergy.statusReason ?? null,
    sourceId: allergy.sourceId ?? null,
    updatedAt: allergy.updatedAt,
  };
}
