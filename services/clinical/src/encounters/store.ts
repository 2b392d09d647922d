import { LockMode } from '@mikro-orm/postgresql';
import { DiagnosisChangedSchema, EncounterChangedSchema } from '@hms/proto-schemas';
import { HmsError, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { requireActiveUsers } from '../tenants/user-replica.js';
import { Admission } from '../entities/admission.js';
import { Department } from '../entities/department.js';
import { Diagnosis } from '../entities/diagnosis.js';
import { Encounter, type EncounterStatus } from '../entities/encounter.js';
import { requirePatientLivingAt, type TimedField } from '../records/store.js';
import { flushOrConflict, sourceIdConflict } from './common.js';
import { Operation, recordChange, recordUnchangedWrite } from './events.js';
import {
  validateOpenEncounter,
  validateReason,
  validateUpdateEncounter,
  type DiagnosisDraft,
  type OpenEncounterInput,
  type UpdateEncounterInput,
} from './validation.js';

/**
 * Reads and writes of encounters and their diagnoses. Every function takes the entity manager of a
 * tenant transaction (inTenantTransaction), so the ORM filter and row-level security limit it to that
 * tenant.
 */

const ENCOUNTER = 'Encounter';
const DIAGNOSIS = 'Diagnosis';

/** The statuses each target status may be reached from, and the event type of reaching it. */
const TRANSITIONS: Record<Exclude<EncounterStatus, 'OPEN'>, { from: EncounterStatus[]; event: string }> = {
  IN_PROGRESS: { from: ['OPEN'], event: 'started' },
  CLOSED: { from: ['IN_PROGRESS'], event: 'closed' },
  CANCELLED: { from: ['OPEN', 'IN_PROGRESS'], event: 'cancelled' },
  ENTERED_IN_ERROR: { from: ['OPEN', 'IN_PROGRESS', 'CLOSED', 'CANCELLED'], event: 'entered_in_error' },
};

/** Statuses of encounters that take no new diagnoses, notes or summaries. */
export const VOIDED_STATUSES: readonly EncounterStatus[] = ['CANCELLED', 'ENTERED_IN_ERROR'];

/**
 * Statuses of encounters whose details and diagnoses no longer change through updateEncounter,
 * addDiagnosis and removeDiagnosis. A CLOSED encounter still takes notes, as late entries.
 */
export const FINISHED_STATUSES: readonly EncounterStatus[] = ['CLOSED', ...VOIDED_STATUSES];

/** Throws CONFLICT naming the status when the encounter is CLOSED, CANCELLED or ENTERED_IN_ERROR. */
export function assertEncounterEditable(encounter: Encounter): void {
  if (!FINISHED_STATUSES.includes(encounter.status)) return;
  const hint = encounter.status === 'CLOSED' ? ' Record a late finding in a note on it.' : '';
  throw HmsError.conflict(
    `Encounter ${encounter.id} is ${encounter.status}, so its details and diagnoses can no longer change.${hint}`,
    { status: encounter.status },
  );
}

/** The identity of the caller, who becomes the attending, author or recorder by default. */
export interface Actor {
  userId: string;
  origin: EventOrigin;
}

/** Loads an encounter locked for update, or throws NOT_FOUND. */
export async function lockEncounter(em: EntityManager, id: string): Promise<Encounter> {
  const encounter = await em.findOne(Encounter, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!encounter) throw HmsError.notFound(ENCOUNTER, id);
  return encounter;
}

/**
 * Throws NOT_FOUND when the patient does not exist in the tenant, and BAD_USER_INPUT naming each of
 * `times` that is before the patient's birth date or after the time of death.
 */
export async function assertPatientExists(
  em: EntityManager,
  patientId: string,
  times: readonly TimedField[] = [],
): Promise<void> {
  await requirePatientLivingAt(em, patientId, times);
}

/** Throws NOT_FOUND when a department id is given and does not exist in the tenant. */
/** Throws BAD_USER_INPUT on input.attendingId unless it names an active user of the tenant. */
export async function assertAttendingActive(
  em: EntityManager,
  attendingId: string | null | undefined,
): Promise<void> {
  if (attendingId) await requireActiveUsers(em, [{ field: 'input.attendingId', userId: attendingId }]);
}

export async function assertDepartmentExists(em: EntityManager, departmentId: string | null): Promise<void> {
  if (departmentId === null) return;
  const department = await em.findOne(Department, { id: departmentId });
  if (!department) throw HmsError.notFound('Department', departmentId);
}

/** Throws CONFLICT with the existing id when another encounter of the tenant has this source id. */
export async function assertEncounterSourceFree(em: EntityManager, sourceId: string | null): Promise<void> {
  if (sourceId === null) return;
  const existing = await em.findOne(Encounter, { sourceId }, { fields: ['id'] });
  if (existing) throw sourceIdConflict('encounter', sourceId, existing.id);
}

/**
 * Opens an AMBULATORY or EMERGENCY encounter, or stores a past one already CLOSED when endedAt is
 * given, with its diagnoses, events and audit records in the caller's transaction.
 */
export async function openEncounter(
  em: EntityManager,
  tenantId: string,
  input: OpenEncounterInput,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const draft = validateOpenEncounter(input, now);
  await assertPatientExists(em, draft.patientId, [{ field: 'input.startedAt', at: draft.startedAt }]);
  await assertAttendingActive(em, draft.attendingId);
  await assertDepartmentExists(em, draft.departmentId);
  await assertEncounterSourceFree(em, draft.sourceId);
  await assertDiagnosisSourcesFree(em, draft.diagnoses);

  const encounter = em.create(Encounter, {
    id: newId(),
    tenantId,
    patientId: draft.patientId,
    encounterClass: draft.encounterClass,
    status: draft.endedAt ? 'CLOSED' : 'OPEN',
    chiefComplaint: draft.chiefComplaint,
    departmentId: draft.departmentId,
    attendingId: draft.attendingId ?? actor.userId,
    startedAt: draft.startedAt,
    endedAt: draft.endedAt,
    sourceId: draft.sourceId,
    createdAt: now,
    updatedAt: now,
  });
  await flushOrConflict(em);
  await encounterOpened(em, tenantId, encounter, actor.origin);
  await addDiagnoses(em, tenantId, encounter, draft.diagnoses, now, actor);
  return encounter;
}

/** Writes `clinical.encounter.opened` and its CREATE audit record. */
export async function encounterOpened(
  em: EntityManager,
  tenantId: string,
  encounter: Encounter,
  origin: EventOrigin,
): Promise<void> {
  await recordChange(em, origin, tenantId, {
    type: 'clinical.encounter.opened',
    subject: { type: ENCOUNTER, id: encounter.id },
    payloadSchema: EncounterChangedSchema,
    payload: {
      encounterId: encounter.id,
      patientId: encounter.patientId,
      encounterClass: encounter.encounterClass,
      status: encounter.status,
    },
    audit: { action: 'encounter.create', operation: Operation.CREATE, patientId: encounter.patientId },
  });
}

/**
 * Applies updateEncounter's input and writes its audit record, and its event when a field changed.
 */
export async function updateEncounter(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: UpdateEncounterInput,
  now: Date,
  origin: EventOrigin,
): Promise<Encounter> {
  const draft = validateUpdateEncounter(input);
  const encounter = await lockEncounter(em, id);
  assertEncounterEditable(encounter);
  if (draft.departmentId !== undefined) await assertDepartmentExists(em, draft.departmentId ?? null);
  await assertAttendingActive(em, draft.attendingId);

  const changedFields = (Object.keys(draft) as (keyof UpdateEncounterInput)[]).filter(
    (field) => (encounter[field] ?? null) !== (draft[field] ?? null),
  );
  em.assign(encounter, { ...draft, updatedAt: now });
  await flushOrConflict(em);

  if (changedFields.length > 0) {
    await recordChange(em, origin, tenantId, {
      type: 'clinical.encounter.updated',
      subject: { type: ENCOUNTER, id },
      payloadSchema: EncounterChangedSchema,
      payload: {
        encounterId: id,
        patientId: encounter.patientId,
        encounterClass: encounter.encounterClass,
        status: encounter.status,
        previousStatus: encounter.status,
        changedFields,
      },
      audit: {
        action: 'encounter.update',
        operation: Operation.UPDATE,
        patientId: encounter.patientId,
        changedFields,
      },
    });
  } else {
    await recordUnchangedWrite(
      em,
      origin,
      tenantId,
      { type: ENCOUNTER, id },
      {
        action: 'encounter.update',
        operation: Operation.UPDATE,
        patientId: encounter.patientId,
      },
    );
  }
  return encounter;
}

/**
 * Moves an encounter to `target` when its life cycle allows it, and writes the status event and audit
 * record. Cancelling and marking entered in error need a reason. An INPATIENT encounter closes only by
 * recording the departure, and cannot be voided while the patient is still in a bed.
 */
export async function changeEncounterStatus(
  em: EntityManager,
  tenantId: string,
  id: string,
  target: Exclude<EncounterStatus, 'OPEN'>,
  options: { reason?: string; endedAt?: Date | null },
  now: Date,
  origin: EventOrigin,
): Promise<Encounter> {
  const reason = options.reason === undefined ? null : validateReason(options.reason);
  const endedAt = options.endedAt ?? now;
  if (target === 'CLOSED' && endedAt.getTime() > now.getTime()) {
    throw HmsError.badUserInput([{ field: 'endedAt', message: 'must not be in the future' }]);
  }

  const encounter = await lockEncounter(em, id);
  const transition = TRANSITIONS[target];
  if (!transition.from.includes(encounter.status)) {
    throw HmsError.conflict(
      `Encounter ${id} is ${encounter.status}. It can become ${target} only from ${transition.from.join(' or ')}.`,
      { status: encounter.status, allowedFrom: transition.from },
    );
  }
  if (encounter.encounterClass === 'INPATIENT') await assertInpatientTransition(em, encounter, target);
  if (target === 'CLOSED' && endedAt.getTime() < encounter.startedAt.getTime()) {
    throw HmsError.badUserInput([{ field: 'endedAt', message: 'must not be before the encounter started' }]);
  }

  const previousStatus = encounter.status;
  em.assign(encounter, {
    status: target,
    updatedAt: now,
    ...(reason !== null ? { statusReason: reason } : {}),
    ...(target === 'CLOSED' ? { endedAt } : {}),
    ...((target === 'CANCELLED' || target === 'ENTERED_IN_ERROR') && !encounter.endedAt
      ? { endedAt: now }
      : {}),
  });
  await flushOrConflict(em);
  await encounterStatusChanged(em, tenantId, encounter, previousStatus, transition.event, origin);
  return encounter;
}

/** Writes the status event of an encounter (`clinical.encounter.<event>`) and its UPDATE audit record. */
export async function encounterStatusChanged(
  em: EntityManager,
  tenantId: string,
  encounter: Encounter,
  previousStatus: EncounterStatus,
  event: string,
  origin: EventOrigin,
): Promise<void> {
  const changedFields =
    encounter.statusReason && previousStatus !== 'CLOSED' ? ['status', 'statusReason'] : ['status'];
  await recordChange(em, origin, tenantId, {
    type: `clinical.encounter.${event}`,
    subject: { type: ENCOUNTER, id: encounter.id },
    payloadSchema: EncounterChangedSchema,
    payload: {
      encounterId: encounter.id,
      patientId: encounter.patientId,
      encounterClass: encounter.encounterClass,
      status: encounter.status,
      previousStatus,
      changedFields,
    },
    audit: {
      action: `encounter.${event}`,
      operation: Operation.UPDATE,
      patientId: encounter.patientId,
      changedFields,
    },
  });
}

async function assertInpatientTransition(
  em: EntityManager,
  encounter: Encounter,
  target: EncounterStatus,
): Promise<void> {
  if (target === 'CLOSED') {
    throw HmsError.conflict(
      `Encounter ${encounter.id} is an INPATIENT stay. It closes when recordDeparture records the departure.`,
      { encounterClass: 'INPATIENT' },
    );
  }
  const admission = await em.findOne(Admission, { encounterId: encounter.id });
  if (admission && admission.dischargedAt === null) {
    // NOTE: voiding a stay while its bed is held would leave the bed OCCUPIED with no current stay, so
    // the departure is recorded first, which frees the bed through the usual CLEANING step.
    throw HmsError.conflict(
      `Encounter ${encounter.id} still occupies a bed. Record the departure before cancelling it or marking it entered in error.`,
      { reason: 'STILL_ADMITTED' },
    );
  }
}

/** Throws CONFLICT with the existing id when a diagnosis source id is already used in the tenant. */
async function assertDiagnosisSourcesFree(
  em: EntityManager,
  drafts: readonly DiagnosisDraft[],
): Promise<void> {
  const sourceIds = drafts.map((draft) => draft.sourceId).filter((id): id is string => id !== null);
  if (sourceIds.length === 0) return;
  const existing = await em.findOne(
    Diagnosis,
    { sourceId: { $in: sourceIds } },
    { fields: ['id', 'sourceId'] },
  );
  if (existing) throw sourceIdConflict('diagnosis', existing.sourceId!, existing.id);
}

/**
 * Records diagnoses of an encounter with their events and audit records. A new primary diagnosis
 * takes the primary flag from the encounter's previous one.
 */
export async function addDiagnoses(
  em: EntityManager,
  tenantId: string,
  encounter: Encounter,
  drafts: readonly DiagnosisDraft[],
  now: Date,
  actor: Actor,
): Promise<Diagnosis[]> {
  if (drafts.length === 0) return [];
  if (VOIDED_STATUSES.includes(encounter.status)) {
    throw HmsError.conflict(`Encounter ${encounter.id} is ${encounter.status}. It takes no diagnoses.`, {
      status: encounter.status,
    });
  }
  await assertDiagnosisSourcesFree(em, drafts);

  // The update runs before the insert, because the partial unique index allows one primary at a time.
  if (drafts.some((draft) => draft.primary)) {
    await em.nativeUpdate(
      Diagnosis,
      { encounterId: encounter.id, isPrimary: true, removedAt: null },
      { isPrimary: false },
    );
  }
  const diagnoses = drafts.map((draft) =>
    em.create(Diagnosis, {
      id: newId(),
      tenantId,
      encounterId: encounter.id,
      codeSystem: draft.codeSystem,
      code: draft.code,
      text: draft.text,
      isPrimary: draft.primary,
      recordedAt: now,
      recordedBy: actor.userId,
      sourceId: draft.sourceId,
    }),
  );
  encounter.updatedAt = now;
  await flushOrConflict(em);
  for (const diagnosis of diagnoses) {
    await diagnosisChanged(em, tenantId, encounter, diagnosis.id, 'added', actor.origin);
  }
  return diagnoses;
}

/** Marks a diagnosis removed with the reason. It stays stored and stops being listed. */
export async function removeDiagnosis(
  em: EntityManager,
  tenantId: string,
  id: string,
  reason: string,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const text = validateReason(reason);
  const diagnosis = await em.findOne(Diagnosis, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!diagnosis) throw HmsError.notFound(DIAGNOSIS, id);
  if (diagnosis.removedAt) throw HmsError.conflict(`Diagnosis ${id} was already removed.`);
  const encounter = await lockEncounter(em, diagnosis.encounterId);
  assertEncounterEditable(encounter);

  em.assign(diagnosis, { removedAt: now, removedBy: actor.userId, removalReason: text, isPrimary: false });
  em.assign(encounter, { updatedAt: now });
  await flushOrConflict(em);
  await diagnosisChanged(em, tenantId, encounter, id, 'removed', actor.origin);
  return encounter;
}

async function diagnosisChanged(
  em: EntityManager,
  tenantId: string,
  encounter: Encounter,
  diagnosisId: string,
  event: 'added' | 'removed',
  origin: EventOrigin,
): Promise<void> {
  await recordChange(em, origin, tenantId, {
    type: `clinical.diagnosis.${event}`,
    subject: { type: DIAGNOSIS, id: diagnosisId },
    payloadSchema: DiagnosisChangedSchema,
    payload: { diagnosisId, encounterId: encounter.id, patientId: encounter.patientId },
    // Ordered with the encounter's other events, since consumers read diagnoses per encounter.
    key: encounter.id,
    audit: {
      action: event === 'added' ? 'diagnosis.create' : 'diagnosis.remove',
      operation: event === 'added' ? Operation.CREATE : Operation.UPDATE,
      patientId: encounter.patientId,
      ...(event === 'removed' ? { changedFields: ['removedAt', 'removalReason'] } : {}),
    },
  });
}
