import type { Prescription } from '../entities/prescription.js';
import { conceptView, userReference, type ConceptView } from '../records/view.js';

/** A prescription exactly as the Prescription type serves it. */
export interface PrescriptionView {
  id: string;
  patientId: string;
  encounterId: string | null;
  medication: ConceptView;
  dose: { value: number; unit: string };
  route: string | null;
  frequency: {
    timesPerPeriod: number | null;
    period: number | null;
    periodUnit: string | null;
    asNeeded: boolean;
    asNeededFor: string | null;
  };
  duration: { value: number; unit: string } | null;
  quantity: { value: number; unit: string } | null;
  instructions: string | null;
  status: string;
  authoredAt: Date;
  prescriber: { __typename: 'User'; id: string };
  statusReason: string | null;
  statusChangedAt: Date | null;
  allergyOverrideReason: string | null;
  overriddenAllergyIds: string[];
  sourceId: string | null;
}

export function prescriptionView(prescription: Prescription): PrescriptionView {
  return {
    id: prescription.id,
    patientId: prescription.patientId,
    encounterId: prescription.encounterId ?? null,
    medication: conceptView(
      prescription.medicationSystem,
      prescription.medicationCode,
      prescription.medicationDisplay,
    ),
    dose: { value: Number(prescription.doseValue), unit: prescription.doseUnit },
    route: prescription.route ?? null,
    frequency: {
      timesPerPeriod: prescription.timesPerPeriod ?? null,
      period:
        prescription.period === null || prescription.period === undefined
          ? null
          : Number(prescription.period),
      periodUnit: prescription.periodUnit ?? null,
      asNeeded: prescription.asNeeded,
      asNeededFor: prescription.asNeededFor ?? null,
    },
    duration:
      prescription.durationValue !== null &&
      prescription.durationValue !== undefined &&
      prescription.durationUnit
        ? { value: Number(prescription.durationValue), unit: prescription.durationUnit }
        : null,
    quantity:
      prescription.quantityValue !== null &&
      prescription.quantityValue !== undefined &&
      prescription.quantityUnit
        ? { value: Number(prescription.quantityValue), unit: prescription.quantityUnit }
        : null,
    instructions: prescription.instructions ?? null,
    status: prescription.status,
    authoredAt: prescription.authoredAt,
    prescriber: userReference(prescription.prescriberId),
    statusReason: prescription.statusReason ?? null,
    statusChangedAt: prescription.statusChangedAt ?? null,
    allergyOverrideReason: prescription.allergyOverrideReason ?? null,
    overriddenAllergyIds: prescription.overriddenAllergyIds,
    sourceId: prescription.sourceId ?? null,
  };
}
