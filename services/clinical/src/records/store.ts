import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { HmsError, type EntityManager } from '@hms/service-kit';
import { Encounter } from '../entities/encounter.js';
import { Patient } from '../entities/patient.js';
import { localDateOf } from '../patients/age.js';
import { ageSettings } from '../patients/store.js';

/**
 * Checks shared by the writes of patient records. Every function takes the entity manager of a tenant
 * transaction, so a patient or record of another tenant is not found.
 */

/** The birth date and time of death of a patient, which bound the times of the patient's records. */
export interface PatientLifetime {
  birthDate: string;
  deceasedAt: Date | null;
}

/** A time given in the input, with the field that carries it. A null or undefined time is not checked. */
export interface TimedField {
  field: string;
  at: Date | null | undefined;
}

/** Throws NOT_FOUND when the patient does not exist in the tenant; returns its birth date and time of death. */
export async function requirePatient(em: EntityManager, patientId: string): Promise<PatientLifetime> {
  const patient = await em.findOne(Patient, { id: patientId }, { fields: ['id', 'birthDate', 'deceasedAt'] });
  if (!patient) throw HmsError.notFound('Patient', patientId);
  return { birthDate: patient.birthDate, deceasedAt: patient.deceasedAt ?? null };
}

/**
 * Throws BAD_USER_INPUT naming each field whose time is before the patient's birth date or after the
 * patient's time of death. The birth date is compared with the local date in the tenant's time zone.
 */
export async function assertWithinLifetime(
  em: EntityManager,
  patient: PatientLifetime,
  times: readonly TimedField[],
): Promise<void> {
  const checked = times.filter((time): time is { field: string; at: Date } => time.at != null);
  if (checked.length === 0) return;
  const { timeZone } = await ageSettings(em);
  const errors: { field: string; message: string }[] = [];
  for (const { field, at } of checked) {
    if (localDateOf(at, timeZone) < patient.birthDate) {
      errors.push({ field, message: `must not be before the patient's birth date (${patient.birthDate})` });
    } else if (patient.deceasedAt && at.getTime() > patient.deceasedAt.getTime()) {
      errors.push({
        field,
        message: `must not be after the patient's time of death (${patient.deceasedAt.toISOString()})`,
      });
    }
  }
  if (errors.length > 0) throw HmsError.badUserInput(errors);
}

/**
 * Throws NOT_FOUND when the patient does not exist in the tenant, and BAD_USER_INPUT when a time
 * falls outside the patient's lifetime (see assertWithinLifetime). Returns the patient's lifetime.
 */
export async function requirePatientLivingAt(
  em: EntityManager,
  patientId: string,
  times: readonly TimedField[],
): Promise<PatientLifetime> {
  const patient = await requirePatient(em, patientId);
  await assertWithinLifetime(em, patient, times);
  return patient;
}

/** Encounter statuses that no record may be added to, because the encounter never took place. */
const VOID_ENCOUNTER_STATUSES = new Set(['CANCELLED', 'ENTERED_IN_ERROR']);

/**
 * Throws BAD_USER_INPUT naming input.encounterId unless the encounter is one of the patient's in the
 * tenant and was not cancelled or entered in error. Another tenant's or patient's encounter gets the
 * same message, so the error reveals nothing about it. A closed encounter is accepted, for notes
 * written after the visit and for imported history.
 */
export async function requireEncounterOfPatient(
  em: EntityManager,
  patientId: string,
  encounterId: string | null,
): Promise<void> {
  if (encounterId === null) return;
  const encounter = await em.findOne(
    Encounter,
    { id: encounterId },
    { fields: ['id', 'patientId', 'status'] },
  );
  if (!encounter || encounter.patientId !== patientId) {
    throw HmsError.badUserInput([
      { field: 'input.encounterId', message: `must be an encounter of this patient; ${encounterId} is not` },
    ]);
  }
  if (VOID_ENCOUNTER_STATUSES.has(encounter.status)) {
    throw HmsError.badUserInput([
      {
        field: 'input.encounterId',
        message: `must not be a ${encounter.status} encounter; record it without an encounter or with the right one`,
      },
    ]);
  }
}

/** The tables of records that carry a tenant-unique source id. */
export type SourcedTable = 'vital_sign_panels' | 'allergies' | 'problems' | 'prescriptions';

/**
 * Throws CONFLICT with `extensions.existingId` when a record of the same type already has this
 * importer reference, so an importer that retries learns which record it created before.
 */
export async function assertSourceIdFree(
  em: EntityManager,
  table: SourcedTable,
  typeName: string,
  sourceId: string | null,
): Promise<void> {
  if (sourceId === null) return;
  const [existing] = await em.execute<{ id: string }[]>(
    `select id from clinical.${table} where source_id = ? limit 1`,
    [sourceId],
  );
  if (existing) {
    throw HmsError.conflict(`A ${typeName} with sourceId ${sourceId} already exists (${existing.id}).`, {
      existingId: existing.id,
      field: 'input.sourceId',
    });
  }
}

/**
 * Flushes, turning a unique violation on a source id into CONFLICT. The check before the write
 * catches the usual case with the existing id; this covers two imports of one record racing.
 */
export async function flushSourced(em: EntityManager, typeName: string): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && error.message.includes('_source_id_key')) {
      throw HmsError.conflict(
        `Another request created a ${typeName} with this sourceId at the same moment; retry the request to learn the id of the record it created.`,
        { field: 'input.sourceId' },
      );
    }
    throw error;
  }
}
