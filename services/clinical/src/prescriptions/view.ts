import type { Prescription } from '../entities/prescription.js';
import { conceptView, userReference, type ConceptView } from '../records/view.js';

/** A prescription exactly as the Prescription type serves it. */
export interface PrescriptionView {
  id: string;
  patientId: string;
  encounterId: string | null;
  medication: ConceptView;
  dose: { value: number; unit: string } | null;
  route: string | null;
  frequency: {
    timesPerPeriod: number | null;
    period: number | null;
    periodUnit: string | null;
    asNeeded: boolean;
    asNeededFor: string | null;
  } | null;
  /** False for imported history whose source gave no dose or no frequency. */
  dosageRecorded: boolean;
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
    dose: doseOf(prescription),
    route: prescription.route ?? null,
    frequency: frequencyOf(prescription),
    dosageRecorded: doseOf(prescription) !== null && frequencyOf(prescription) !== null,
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

/** Returns the dose, or null when imported history recorded none. */
function doseOf(prescription: Prescription): { value: number; unit: string } | null {
  if (prescription.doseValue === null || prescription.doseValue === undefined || !prescription.doseUnit) {
    return null;
  }
  return { value: Number(prescription.doseValue), unit: prescription.doseUnit };
}

/** Returns the frequency, or null when imported history recorded none (as_needed is then null). */
function frequencyOf(prescription: Prescription): NonNullable<PrescriptionView['frequency']> | null {
  if (prescription.asNeeded === null || prescription.asNeeded === undefined) return null;
  return {
    timesPerPeriod: prescription.timesPerPeriod ?? null,
    period:
      prescription.period === null || prescription.period === undefined ? null : Number(prescription.period),
    periodUnit: prescription.periodUnit ?? null,
    asNeeded: prescription.asNeeded,
    asNeededFor: prescription.asNeededFor ?? null,
  };
}
