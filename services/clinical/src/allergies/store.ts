import { LockMode } from '@mikro-orm/postgresql';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import {
  Allergy,
  SUBSTANCE_SYSTEMS,
  type AllergyClinicalStatus,
  type ReactionValue,
} from '../entities/allergy.js';
import {
  checkConcept,
  checkOptionalUuid,
  checkPastInstant,
  checkRequiredText,
  checkSourceId,
  checkText,
  MAX_NOTE,
  MAX_REASON,
  nameKeyOf,
} from '../records/input.js';
import {
  assertSourceIdFree,
  flushSourced,
  requireEncounterOfPatient,
  requirePatientLivingAt,
} from '../records/store.js';
import { allergyRecorded, allergyUpdated } from './events.js';
import type { AllergyReactionInput, RecordAllergyInput, UpdateAllergyStatusInput } from './inputs.js';
import { allergyView, type AllergyView } from './view.js';

const MAX_REACTIONS = 20;
/** Manifestations are signs and symptoms, which SNOMED CT codes. */
const MANIFESTATION_SYSTEMS = ['SNOMED_CT'] as const;

/** Validates and stores an allergy, and writes its event and audit record in the same transaction. */
export async function recordAllergy(
  em: EntityManager,
  tenantId: string,
  input: RecordAllergyInput,
  now: Date,
  origin: EventOrigin,
  recorderId: string,
): Promise<AllergyView> {
  const errors = new InputErrors();
  const encounterId = checkOptionalUuid(input.encounterId, 'input.encounterId', 'an encounter', errors);
  const sourceId = checkSourceId(input.sourceId, errors);
  const substance = checkConcept(input.substance, 'input.substance', SUBSTANCE_SYSTEMS, errors);
  const verificationStatus = input.verificationStatus ?? 'UNCONFIRMED';
  let clinicalStatus: AllergyClinicalStatus | null = input.clinicalStatus ?? 'ACTIVE';
  if (verificationStatus === 'ENTERED_IN_ERROR') {
    if (input.clinicalStatus) {
      errors.add('input.clinicalStatus', 'must be left out when verificationStatus is ENTERED_IN_ERROR');
    }
    clinicalStatus = null;
  }
  const reactions = checkReactions(input.reactions ?? [], now, errors);
  const onsetAt = checkPastInstant(input.onsetAt, 'input.onsetAt', now, errors);
  const recordedAt = checkPastInstant(input.recordedAt, 'input.recordedAt', now, errors) ?? now;
  const note = checkText(input.note, 'input.note', MAX_NOTE, errors);
  errors.throwIfAny();

  await requirePatientLivingAt(em, input.patientId, [
    { field: 'input.onsetAt', at: onsetAt },
    ...reactions.map((reaction, index) => ({
      field: `input.reactions[${index}].onsetAt`,
      at: reaction.onsetAt ? new Date(reaction.onsetAt) : null,
    })),
  ]);
  await requireEncounterOfPatient(em, input.patientId, encounterId);
  await assertSourceIdFree(em, 'allergies', 'allergy', sourceId);

  const allergy = em.create(Allergy, {
    id: newId(),
    tenantId,
    patientId: input.patientId,
    encounterId,
    sourceId,
    substanceSystem: substance!.system,
    substanceCode: substance!.code,
    substanceDisplay: substance!.display,
    substanceKey: nameKeyOf(substance!.display),
    type: input.type ?? null,
    category: input.category,
    criticality: input.criticality ?? null,
    clinicalStatus,
    verificationStatus,
    reactions,
    onsetAt,
    note,
    recordedAt,
    recordedBy: recorderId,
    statusReason: null,
    createdAt: now,
    updatedAt: now,
  });
  await flushSourced(em, 'allergy');
  await allergyRecorded(em, origin, tenantId, allergy);
  return allergyView(allergy);
}

function checkReactions(inputs: AllergyReactionInput[], now: Date, errors: InputErrors): ReactionValue[] {
  if (inputs.length > MAX_REACTIONS) {
    errors.add('input.reactions', `must contain at most ${MAX_REACTIONS} reactions`);
    return [];
  }
  return inputs.map((reaction, index) => {
    const field = `input.reactions[${index}]`;
    const manifestation = checkConcept(
      reaction.manifestation,
      `${field}.manifestation`,
      MANIFESTATION_SYSTEMS,
      errors,
    );
    const onsetAt = checkPastInstant(reaction.onsetAt, `${field}.onsetAt`, now, errors);
    return {
      manifestation: manifestation ?? { system: null, code: null, display: '' },
      severity: reaction.severity ?? null,
      description: checkText(reaction.description, `${field}.description`, MAX_REASON, errors),
      onsetAt: onsetAt ? onsetAt.toISOString() : null,
    };
  });
}

/**
 * Changes the clinical and/or verification status of an allergy with a reason. ENTERED_IN_ERROR is
 * final and clears the clinical status, as FHIR requires.
 */
export async function updateAllergyStatus(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: UpdateAllergyStatusInput,
  now: Date,
  origin: EventOrigin,
): Promise<AllergyView> {
  const errors = new InputErrors();
  const reason = checkRequiredText(input.reason, 'input.reason', MAX_REASON, errors);
  if (!input.clinicalStatus && !input.verificationStatus) {
    errors.add('input', 'must contain clinicalStatus, verificationStatus or both');
  }
  if (input.clinicalStatus && input.verificationStatus === 'ENTERED_IN_ERROR') {
    errors.add('input.clinicalStatus', 'must be left out when verificationStatus is ENTERED_IN_ERROR');
  }
  errors.throwIfAny();

  const allergy = await em.findOne(Allergy, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!allergy) throw HmsError.notFound('AllergyIntolerance', id);
  if (allergy.verificationStatus === 'ENTERED_IN_ERROR') {
    throw HmsError.conflict(
      `Allergy ${id} was entered in error; record a new allergy instead of changing it.`,
      {
        verificationStatus: allergy.verificationStatus,
      },
    );
  }

  const verificationStatus = input.verificationStatus ?? allergy.verificationStatus;
  const clinicalStatus =
    verificationStatus === 'ENTERED_IN_ERROR'
      ? null
      : (input.clinicalStatus ?? allergy.clinicalStatus ?? null);
  const changedFields: string[] = [];
  if (verificationStatus !== allergy.verificationStatus) changedFields.push('verificationStatus');
  if (clinicalStatus !== (allergy.clinicalStatus ?? null)) changedFields.push('clinicalStatus');
  if (changedFields.length === 0) {
    throw HmsError.badUserInput([{ field: 'input', message: 'the allergy already has these statuses' }]);
  }

  em.assign(allergy, { verificationStatus, clinicalStatus, statusReason: reason, updatedAt: now });
  await em.flush();
  await allergyUpdated(em, origin, tenantId, allergy, [...changedFields, 'statusReason']);
  return allergyView(allergy);
}

/** Loads allergies by id in one query. */
export async function loadAllergies(
  em: EntityManager,
  ids: readonly string[],
): Promise<Map<string, AllergyView>> {
  const allergies = ids.length ? await em.find(Allergy, { id: { $in: [...new Set(ids)] } }) : [];
  return new Map(allergies.map((allergy) => [allergy.id, allergyView(allergy)]));
}

/** Reads the allergies of many patients in one query, newest recorded first. */
export async function allergiesOf(
  em: EntityManager,
  patientIds: readonly string[],
): Promise<Map<string, AllergyView[]>> {
  const allergies = await em.find(
    Allergy,
    { patientId: { $in: [...patientIds] } },
    { orderBy: { patientId: 'asc', recordedAt: 'desc', id: 'desc' } },
  );
  const result = new Map<string, AllergyView[]>();
  for (const allergy of allergies) {
    const list = result.get(allergy.patientId) ?? [];
    list.push(allergyView(allergy));
    result.set(allergy.patientId, list);
  }
  return result;
}

/**
 * Reads the patient's allergies that forbid prescribing: category MEDICATION, clinical status ACTIVE,
 * and verification UNCONFIRMED or CONFIRMED (an unconfirmed allergy still warns, a refuted one does not).
 */
export async function blockingMedicationAllergies(em: EntityManager, patientId: string): Promise<Allergy[]> {
  return em.find(
    Allergy,
    {
      patientId,
      category: 'MEDICATION',
      clinicalStatus: 'ACTIVE',
      verificationStatus: { $in: ['UNCONFIRMED', 'CONFIRMED'] },
    },
    { orderBy: { recordedAt: 'asc', id: 'asc' } },
  );
}
