import { LockMode } from '@mikro-orm/postgresql';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import type { Allergy } from '../entities/allergy.js';
import { Prescription, type PrescriptionStatus } from '../entities/prescription.js';
import { blockingMedicationAllergies } from '../allergies/store.js';
import { checkRequiredText, MAX_REASON, nameKeyOf } from '../records/input.js';
import {
  assertSourceIdFree,
  flushSourced,
  requireEncounterOfPatient,
  requirePatientLivingAt,
} from '../records/store.js';
import { prescriptionAllergyOverridden, prescriptionIssued, prescriptionStatusChanged } from './events.js';
import type { IssuePrescriptionInput } from './inputs.js';
import { validatePrescription, type PrescriptionDraft } from './validation.js';
import { prescriptionView, type PrescriptionView } from './view.js';

/**
 * Validates and stores a prescription signed by `prescriberId`, and writes its events and audit
 * records in the same transaction. An ACTIVE prescription of a drug the patient is allergic to is
 * rejected unless the prescriber gives an override reason, which is stored and audited on its own.
 */
export async function issuePrescription(
  em: EntityManager,
  tenantId: string,
  input: IssuePrescriptionInput,
  now: Date,
  origin: EventOrigin,
  prescriberId: string,
): Promise<PrescriptionView> {
  const draft = validatePrescription(input, now);
  await requirePatientLivingAt(em, input.patientId, [{ field: 'input.authoredAt', at: draft.authoredAt }]);
  await requireEncounterOfPatient(em, input.patientId, draft.encounterId);
  await assertSourceIdFree(em, 'prescriptions', 'prescription', draft.sourceId);

  // History recorded with a final status orders nothing, so only a new ACTIVE order is checked.
  const medicationKey = nameKeyOf(draft.medication.display);
  const matching =
    draft.status === 'ACTIVE'
      ? matchingAllergies(await blockingMedicationAllergies(em, input.patientId), draft, medicationKey)
      : [];
  if (matching.length > 0 && !draft.allergyOverrideReason) {
    const names = matching
      .map(
        (allergy) =>
          `${allergy.substanceDisplay} (allergy ${allergy.id}, ${allergy.verificationStatus}${allergy.criticality ? `, criticality ${allergy.criticality}` : ''})`,
      )
      .join('; ');
    throw HmsError.badUserInput([
      {
        field: 'input.allergyOverrideReason',
        message: `is required because the patient has an active medication allergy to ${names}; give the reason to prescribe it anyway, or choose another medication`,
      },
    ]);
  }
  const overridden = matching.length > 0 ? matching.map((allergy) => allergy.id) : [];

  const prescription = em.create(Prescription, {
    id: newId(),
    tenantId,
    patientId: input.patientId,
    encounterId: draft.encounterId,
    sourceId: draft.sourceId,
    medicationSystem: draft.medication.system,
    medicationCode: draft.medication.code,
    medicationDisplay: draft.medication.display,
    medicationKey,
    doseValue: draft.dose?.value ?? null,
    doseUnit: draft.dose?.unit ?? null,
    route: input.route ?? null,
    timesPerPeriod: draft.frequency?.timesPerPeriod ?? null,
    period: draft.frequency?.period ?? null,
    periodUnit: draft.frequency?.periodUnit ?? null,
    asNeeded: draft.frequency?.asNeeded ?? null,
    asNeededFor: draft.frequency?.asNeededFor ?? null,
    durationValue: draft.duration?.value ?? null,
    durationUnit: draft.duration?.unit ?? null,
    quantityValue: draft.quantity?.value ?? null,
    quantityUnit: draft.quantity?.unit ?? null,
    instructions: draft.instructions,
    status: draft.status,
    authoredAt: draft.authoredAt,
    prescriberId,
    statusReason: draft.statusReason,
    statusChangedAt: null,
    statusChangedBy: null,
    // An override reason with no matching allergy overrides nothing, so it is not kept.
    allergyOverrideReason: overridden.length > 0 ? draft.allergyOverrideReason : null,
    overriddenAllergyIds: overridden,
    createdAt: now,
    updatedAt: now,
  });
  await flushSourced(em, 'prescription');

  await prescriptionIssued(em, origin, tenantId, prescription);
  if (overridden.length > 0) {
    await prescriptionAllergyOverridden(em, origin, tenantId, prescription, overridden);
  }
  return prescriptionView(prescription);
}

/**
 * Returns the allergies whose substance is the medication: the same code in the same system, or the
 * substance's folded name equal to the medication's or contained in it as whole words (an allergy to
 * "penicillin" matches "Penicillin V Potassium 250 MG Oral Tablet").
 *
 * NOTE: drug classes are not expanded, so an allergy coded as the penicillin class does not match
 * amoxicillin unless the names share the words. Matching classes needs an RxNorm class lookup.
 */
export function matchingAllergies(
  allergies: Allergy[],
  draft: PrescriptionDraft,
  medicationKey: string,
): Allergy[] {
  const paddedMedication = ` ${medicationKey} `;
  return allergies.filter((allergy) => {
    const sameCode =
      draft.medication.system !== null &&
      allergy.substanceSystem === draft.medication.system &&
      allergy.substanceCode === draft.medication.code;
    const sameName =
      allergy.substanceKey.length > 0 && paddedMedication.includes(` ${allergy.substanceKey} `);
    return sameCode || sameName;
  });
}

type FinalStatus = Exclude<PrescriptionStatus, 'ACTIVE'>;

/**
 * Moves an ACTIVE prescription to a final status. STOPPED and CANCELLED need a reason. A prescription
 * that is not ACTIVE cannot change, which is a CONFLICT naming its status.
 */
export async function changePrescriptionStatus(
  em: EntityManager,
  tenantId: string,
  id: string,
  status: FinalStatus,
  reasonInput: string | null,
  now: Date,
  origin: EventOrigin,
  userId: string,
): Promise<PrescriptionView> {
  let reason: string | null = null;
  if (status !== 'COMPLETED') {
    const errors = new InputErrors();
    reason = checkRequiredText(reasonInput, 'reason', MAX_REASON, errors);
    errors.throwIfAny();
  }

  const prescription = await em.findOne(Prescription, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!prescription) throw HmsError.notFound('Prescription', id);
  if (prescription.status !== 'ACTIVE') {
    throw HmsError.conflict(
      `Prescription ${id} is ${prescription.status}; only an ACTIVE prescription can become ${status}.`,
      { status: prescription.status },
    );
  }

  em.assign(prescription, {
    status,
    statusReason: reason,
    statusChangedAt: now,
    statusChangedBy: userId,
    updatedAt: now,
  });
  await em.flush();
  await prescriptionStatusChanged(em, origin, tenantId, prescription, status);
  return prescriptionView(prescription);
}

/** Loads prescriptions by id in one query. */
export async function loadPrescriptions(
  em: EntityManager,
  ids: readonly string[],
): Promise<Map<string, PrescriptionView>> {
  const prescriptions = ids.length ? await em.find(Prescription, { id: { $in: [...new Set(ids)] } }) : [];
  return new Map(prescriptions.map((prescription) => [prescription.id, prescriptionView(prescription)]));
}

/** Reads the prescriptions of many patients in one query, newest authored first. */
export async function prescriptionsOf(
  em: EntityManager,
  patientIds: readonly string[],
): Promise<Map<string, PrescriptionView[]>> {
  const prescriptions = await em.find(
    Prescription,
    { patientId: { $in: [...patientIds] } },
    { orderBy: { patientId: 'asc', authoredAt: 'desc', id: 'desc' } },
  );
  const result = new Map<string, PrescriptionView[]>();
  for (const prescription of prescriptions) {
    const list = result.get(prescription.patientId) ?? [];
    list.push(prescriptionView(prescription));
    result.set(prescription.patientId, list);
  }
  return result;
}
