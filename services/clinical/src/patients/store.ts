import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { HmsError, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { Patient } from '../entities/patient.js';
import { PatientGuardian } from '../entities/patient-guardian.js';
import { PatientIdentifier } from '../entities/patient-identifier.js';
import { DEFAULT_AGE_OF_MAJORITY, TenantSetting } from '../entities/tenant-setting.js';
import { changedFieldsOf, patientRegistered, patientUpdated } from './events.js';
import { nextMrn } from './mrn.js';
import { digitsOf, searchTextOf, sortKeysOf } from './normalize.js';
import type {
  GuardianValue,
  IdentifierValue,
  PatientDraft,
  RegisterPatientInput,
  UpdatePatientInput,
} from './inputs.js';
import { validateRegistration, validateUpdate } from './validation.js';
import { draftOf, patientView, type AgeSettings, type PatientView } from './view.js';

/**
 * Reads and writes of patients. Every function takes the entity manager of a tenant transaction
 * (inTenantTransaction), so the ORM filter and row-level security limit it to that tenant.
 */

const IDENTIFIER_UNIQUE_CONSTRAINT = 'patient_identifiers_tenant_id_system_value_key';

/**
 * Reads the tenant's age of majority and time zone: its clinical settings, or the defaults (18, UTC)
 * while it has none.
 */
export async function ageSettings(em: EntityManager): Promise<AgeSettings> {
  const setting = await em.findOne(TenantSetting, {});
  return {
    ageOfMajority: setting?.ageOfMajority ?? DEFAULT_AGE_OF_MAJORITY,
    timeZone: setting?.timeZone ?? 'UTC',
  };
}

/** Loads patients with their identifiers and guardians in a fixed number of queries, whatever the count. */
export async function loadPatients(
  em: EntityManager,
  ids: readonly string[],
  now: Date,
): Promise<Map<string, PatientView>> {
  const patients = ids.length ? await em.find(Patient, { id: { $in: [...new Set(ids)] } }) : [];
  return viewsOf(em, patients, now);
}

/** Builds views of patients already loaded, fetching their identifiers, guardians and the tenant setting. */
export async function viewsOf(
  em: EntityManager,
  patients: Patient[],
  now: Date,
): Promise<Map<string, PatientView>> {
  const views = new Map<string, PatientView>();
  if (patients.length === 0) return views;

  const patientIds = patients.map((patient) => patient.id);
  const identifiers = await em.find(
    PatientIdentifier,
    { patientId: { $in: patientIds } },
    { orderBy: { patientId: 'asc', position: 'asc' } },
  );
  const guardians = await em.find(
    PatientGuardian,
    { patientId: { $in: patientIds } },
    { orderBy: { patientId: 'asc', position: 'asc' } },
  );
  const settings = await ageSettings(em);

  for (const patient of patients) {
    views.set(
      patient.id,
      patientView(
        patient,
        identifiers.filter((identifier) => identifier.patientId === patient.id),
        guardians.filter((guardian) => guardian.patientId === patient.id),
        settings,
        now,
      ),
    );
  }
  return views;
}

/** Finds the id of the patient with an identifier; undefined when no patient has it. */
export async function patientIdByIdentifier(
  em: EntityManager,
  system: string,
  value: string,
): Promise<string | undefined> {
  const identifier = await em.findOne(PatientIdentifier, { system, value });
  return identifier?.patientId;
}

/**
 * Validates and stores a new patient with the next MRN of the tenant, and writes its event and audit
 * record to the outbox in the same transaction.
 */
export async function registerPatient(
  em: EntityManager,
  tenantId: string,
  input: RegisterPatientInput,
  now: Date,
  origin: EventOrigin,
): Promise<PatientView> {
  // Validation comes first and reads nothing but the tenant setting, so invalid input writes nothing.
  const settings = await ageSettings(em);
  const draft = validateRegistration(input, { ...settings, now });
  await assertIdentifiersFree(em, draft.identifiers, undefined);

  // The MRN is taken last: it locks the tenant's counter until commit, and every step before it is
  // work that concurrent registrations can do in parallel.
  const mrn = await nextMrn(em, tenantId);
  const patient = em.create(Patient, {
    id: newId(),
    tenantId,
    mrn,
    createdAt: now,
    updatedAt: now,
    ...columnsOf(draft, mrn),
  });
  await flushMappingConflicts(em);

  const identifiers = draft.identifiers.map((identifier, position) =>
    createIdentifier(em, tenantId, patient.id, identifier, position),
  );
  const guardians = draft.guardians.map((guardian, position) =>
    createGuardian(em, tenantId, patient.id, guardian, position),
  );
  await flushMappingConflicts(em);
  await patientRegistered(em, origin, tenantId, patient);

  return patientView(patient, identifiers, guardians, settings, now);
}

/**
 * Applies an update to a patient and writes its event and audit record, naming the changed fields. The row is locked first so that two concurrent updates apply one
 * after the other instead of the second overwriting the first with stale values.
 */
export async function updatePatient(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: UpdatePatientInput,
  now: Date,
  origin: EventOrigin,
): Promise<PatientView> {
  const patient = await em.findOne(Patient, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!patient) throw HmsError.notFound('Patient', id);
  let identifiers = await em.find(PatientIdentifier, { patientId: id }, { orderBy: { position: 'asc' } });
  let guardians = await em.find(PatientGuardian, { patientId: id }, { orderBy: { position: 'asc' } });

  const settings = await ageSettings(em);
  const stored = draftOf(patient, identifiers, guardians);
  const draft = validateUpdate(input, stored, { ...settings, now });

  if (input.identifiers !== undefined) {
    await assertIdentifiersFree(em, draft.identifiers, id);
    identifiers = replaceIdentifiers(em, tenantId, id, identifiers, draft.identifiers);
  }
  if (input.guardians !== undefined) {
    for (const guardian of guardians) em.remove(guardian);
    guardians = draft.guardians.map((guardian, position) =>
      createGuardian(em, tenantId, id, guardian, position),
    );
  }
  em.assign(patient, { ...columnsOf(draft, patient.mrn), updatedAt: now });
  await flushMappingConflicts(em);
  await patientUpdated(em, origin, tenantId, id, changedFieldsOf(stored, draft));

  return patientView(patient, identifiers, guardians, settings, now);
}

/** Computes the patient columns from validated demographics, derived search columns included. */
function columnsOf(draft: PatientDraft, mrn: string) {
  const phoneDigits = draft.phone ? digitsOf(draft.phone) : null;
  return {
    givenNames: draft.name.given,
    familyName: draft.name.family,
    namePrefix: draft.name.prefix,
    nameSuffix: draft.name.suffix,
    sex: draft.sex,
    genderIdentity: draft.genderIdentity,
    birthDate: draft.birthDate,
    deceasedAt: draft.deceasedAt,
    phone: draft.phone,
    phoneDigits,
    email: draft.email,
    address: draft.address,
    searchText: searchTextOf({ given: draft.name.given, family: draft.name.family, mrn, phoneDigits }),
    ...sortKeysOf(draft.name),
  };
}

/** Throws CONFLICT naming each identifier that another patient of the tenant already holds. */
async function assertIdentifiersFree(
  em: EntityManager,
  identifiers: IdentifierValue[],
  patientId: string | undefined,
): Promise<void> {
  if (identifiers.length === 0) return;
  const held = await em.find(PatientIdentifier, {
    $or: identifiers.map(({ system, value }) => ({ system, value })),
    ...(patientId ? { patientId: { $ne: patientId } } : {}),
  });
  if (held.length === 0) return;

  const heldKeys = new Set(held.map((identifier) => JSON.stringify([identifier.system, identifier.value])));
  const conflicts = identifiers
    .map((identifier, index) => ({
      field: `input.identifiers[${index}]`,
      system: identifier.system,
      value: identifier.value,
    }))
    .filter((identifier) => heldKeys.has(JSON.stringify([identifier.system, identifier.value])));
  const names = conflicts.map((identifier) => `${identifier.system} ${identifier.value}`).join(', ');
  throw HmsError.conflict(`Another patient already has the identifier ${names}.`, { identifiers: conflicts });
}

/**
 * Makes the stored identifiers equal `expected`, keeping rows whose system and value stay. Keeping them
 * (rather than deleting and inserting everything) matters because a flush runs inserts before
 * deletes, so re-inserting an unchanged identifier would collide with its own old row.
 */
function replaceIdentifiers(
  em: EntityManager,
  tenantId: string,
  patientId: string,
  stored: PatientIdentifier[],
  expected: IdentifierValue[],
): PatientIdentifier[] {
  const byKey = new Map(
    stored.map((identifier) => [JSON.stringify([identifier.system, identifier.value]), identifier]),
  );
  const result = expected.map((identifier, position) => {
    const key = JSON.stringify([identifier.system, identifier.value]);
    const existing = byKey.get(key);
    if (!existing) return createIdentifier(em, tenantId, patientId, identifier, position);
    byKey.delete(key);
    em.assign(existing, { type: identifier.type, position });
    return existing;
  });
  for (const leftover of byKey.values()) em.remove(leftover);
  return result;
}

function createIdentifier(
  em: EntityManager,
  tenantId: string,
  patientId: string,
  identifier: IdentifierValue,
  position: number,
) {
  return em.create(PatientIdentifier, { id: newId(), tenantId, patientId, ...identifier, position });
}

function createGuardian(
  em: EntityManager,
  tenantId: string,
  patientId: string,
  guardian: GuardianValue,
  position: number,
) {
  return em.create(PatientGuardian, {
    id: newId(),
    tenantId,
    patientId,
    givenNames: guardian.name.given,
    familyName: guardian.name.family,
    namePrefix: guardian.name.prefix,
    nameSuffix: guardian.name.suffix,
    relationship: guardian.relationship,
    phone: guardian.phone,
    email: guardian.email,
    position,
  });
}

/**
 * Flushes, turning a unique violation on identifiers into CONFLICT. The check before the write catches
 * the usual case with a precise message; this covers two registrations racing for one identifier.
 */
async function flushMappingConflicts(em: EntityManager): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (
      error instanceof UniqueConstraintViolationException &&
      error.message.includes(IDENTIFIER_UNIQUE_CONSTRAINT)
    ) {
      throw HmsError.conflict(
        'Another patient was given one of these identifiers at the same moment; read the patients again and retry.',
      );
    }
    throw error;
  }
}
