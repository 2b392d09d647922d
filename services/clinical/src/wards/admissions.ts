import { LockMode } from '@mikro-orm/postgresql';
import { AdmissionChangedSchema, timestampFromDate } from '@hms/proto-schemas';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { Admission } from '../entities/admission.js';
import { Bed } from '../entities/bed.js';
import { BedAssignment } from '../entities/bed-assignment.js';
import { Encounter } from '../entities/encounter.js';
import { Ward } from '../entities/ward.js';
import {
  checkNotFuture,
  checkOptionalId,
  flushOrConflict,
  optionalText,
  sourceIdOf,
} from '../encounters/common.js';
import { Operation, recordChange } from '../encounters/events.js';
import {
  addDiagnoses,
  assertAttendingActive,
  assertDepartmentExists,
  assertEncounterSourceFree,
  assertPatientExists,
  encounterOpened,
  encounterStatusChanged,
  lockEncounter,
  type Actor,
} from '../encounters/store.js';
import { validateDiagnoses, type DiagnosisInput } from '../encounters/validation.js';
import { bedFreeOver, changeBedStatus } from './store.js';

/**
 * Hospital stays: admission to a bed, transfers, the two-step discharge and past stays recorded
 * afterwards. Exclusion constraints on bed_assignments keep one patient per bed and one bed per
 * patient at any instant. The bed's status follows the current assignment and changes only under the
 * bed's row lock.
 */

const ADMISSION = 'Admission';

export interface AdmitPatientInput {
  patientId: string;
  bedId: string;
  chiefComplaint?: string | null;
  departmentId?: string | null;
  attendingId?: string | null;
  admittedAt?: Date | null;
  sourceId?: string | null;
}

export interface RecordPastAdmissionInput {
  patientId: string;
  wardId: string;
  bedId?: string | null;
  admittedAt: Date;
  dischargedAt: Date;
  chiefComplaint?: string | null;
  departmentId?: string | null;
  attendingId?: string | null;
  diagnoses?: DiagnosisInput[] | null;
  sourceId?: string | null;
}

/**
 * Opens an INPATIENT encounter IN_PROGRESS and puts the patient in a FREE bed. Of concurrent
 * admissions to one bed exactly one succeeds: the others fail on the exclusion constraint (or find the
 * bed no longer FREE) and get CONFLICT.
 */
export async function admitPatient(
  em: EntityManager,
  tenantId: string,
  input: AdmitPatientInput,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const errors = new InputErrors();
  checkOptionalId(errors, input.patientId, 'input.patientId', 'patient');
  checkOptionalId(errors, input.bedId, 'input.bedId', 'bed');
  checkOptionalId(errors, input.departmentId, 'input.departmentId', 'department');
  checkOptionalId(errors, input.attendingId, 'input.attendingId', 'user');
  const admittedAt = input.admittedAt ?? now;
  checkNotFuture(errors, admittedAt, 'input.admittedAt', now);
  const chiefComplaint = optionalText(errors, input.chiefComplaint, 'input.chiefComplaint');
  const sourceId = sourceIdOf(errors, input.sourceId, 'input.sourceId');
  errors.throwIfAny();

  await assertPatientExists(em, input.patientId, [{ field: 'input.admittedAt', at: admittedAt }]);
  await assertAttendingActive(em, input.attendingId);
  await assertDepartmentExists(em, input.departmentId ?? null);
  await assertEncounterSourceFree(em, sourceId);
  const bed = await lockFreeBed(em, input.bedId);

  const encounter = await createStay(em, tenantId, {
    patientId: input.patientId,
    status: 'IN_PROGRESS',
    chiefComplaint,
    departmentId: input.departmentId ?? null,
    attendingId: input.attendingId ?? actor.userId,
    admittedAt,
    dischargedAt: null,
    wardId: bed.wardId,
    bedId: bed.id,
    sourceId,
    now,
  });
  await changeBedStatus(em, tenantId, bed.id, ['FREE'], 'OCCUPIED', now, actor.origin);

  await encounterOpened(em, tenantId, encounter, actor.origin);
  await admissionChanged(em, tenantId, 'admitted', actor.origin, {
    encounter,
    wardId: bed.wardId,
    bedId: bed.id,
    admittedAt,
    effectiveAt: admittedAt,
  });
  return encounter;
}

/**
 * Records a finished stay without touching any bed's current status. Without a bed id it takes the
 * first bed of the ward (by code) free over the whole stay. The exclusion constraint still rejects an
 * overlap that a concurrent write created in between.
 */
export async function recordPastAdmission(
  em: EntityManager,
  tenantId: string,
  input: RecordPastAdmissionInput,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const errors = new InputErrors();
  checkOptionalId(errors, input.patientId, 'input.patientId', 'patient');
  checkOptionalId(errors, input.wardId, 'input.wardId', 'ward');
  checkOptionalId(errors, input.bedId, 'input.bedId', 'bed');
  checkOptionalId(errors, input.departmentId, 'input.departmentId', 'department');
  checkOptionalId(errors, input.attendingId, 'input.attendingId', 'user');
  checkNotFuture(errors, input.admittedAt, 'input.admittedAt', now);
  checkNotFuture(errors, input.dischargedAt, 'input.dischargedAt', now);
  if (input.dischargedAt.getTime() <= input.admittedAt.getTime()) {
    errors.add('input.dischargedAt', 'must be after admittedAt');
  }
  const chiefComplaint = optionalText(errors, input.chiefComplaint, 'input.chiefComplaint');
  const diagnoses = validateDiagnoses(errors, input.diagnoses, 'input.diagnoses');
  const sourceId = sourceIdOf(errors, input.sourceId, 'input.sourceId');
  errors.throwIfAny();

  await assertPatientExists(em, input.patientId, [{ field: 'input.admittedAt', at: input.admittedAt }]);
  await assertAttendingActive(em, input.attendingId);
  await assertDepartmentExists(em, input.departmentId ?? null);
  await assertEncounterSourceFree(em, sourceId);
  const ward = await em.findOne(Ward, { id: input.wardId });
  if (!ward) throw HmsError.notFound('Ward', input.wardId);
  let bedId = input.bedId ?? undefined;
  if (!bedId) {
    // NOTE: another write may take the picked bed over the same period before the lock below. The
    // exclusion constraint then rejects this stay with CONFLICT and the caller retries.
    bedId = await bedFreeOver(em, ward.id, input.admittedAt, input.dischargedAt);
    if (!bedId) {
      throw HmsError.conflict(
        `Ward ${ward.code} has no bed free over the whole stay. Add a bed or name one.`,
        {
          reason: 'NO_FREE_BED',
        },
      );
    }
  }
  // The lock queues concurrent writes to one bed, as in lockFreeBed. The bed's status does not matter
  // for a stay that is over.
  const bed = await em.findOne(Bed, { id: bedId, wardId: ward.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!bed) throw HmsError.notFound('Bed', bedId);

  const encounter = await createStay(em, tenantId, {
    patientId: input.patientId,
    status: 'CLOSED',
    chiefComplaint,
    departmentId: input.departmentId ?? null,
    attendingId: input.attendingId ?? actor.userId,
    admittedAt: input.admittedAt,
    dischargedAt: input.dischargedAt,
    wardId: ward.id,
    bedId,
    sourceId,
    now,
  });
  await encounterOpened(em, tenantId, encounter, actor.origin);
  await admissionChanged(em, tenantId, 'recorded', actor.origin, {
    encounter,
    wardId: ward.id,
    bedId,
    admittedAt: input.admittedAt,
    dischargedAt: input.dischargedAt,
    effectiveAt: input.dischargedAt,
  });
  await addDiagnoses(em, tenantId, encounter, diagnoses, now, actor);
  return encounter;
}

/**
 * Moves an admitted patient to a FREE bed. The current assignment ends now, the next starts now, the
 * previous bed turns CLEANING and the new one OCCUPIED.
 */
export async function transferPatient(
  em: EntityManager,
  tenantId: string,
  encounterId: string,
  bedId: string,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const { encounter, admission } = await lockCurrentStay(em, encounterId);
  if (admission.bedId === bedId) {
    throw HmsError.badUserInput([{ field: 'bedId', message: 'is the bed the patient is in already' }]);
  }
  const bed = await lockFreeBed(em, bedId);
  const current = await currentAssignment(em, encounterId);
  const previous = { wardId: admission.wardId, bedId: admission.bedId };

  // The old period ends before the new one starts, so the flush order cannot make them overlap.
  current.endedAt = now;
  await flushOrConflict(em);
  em.create(BedAssignment, {
    id: newId(),
    tenantId,
    encounterId,
    patientId: encounter.patientId,
    wardId: bed.wardId,
    bedId,
    startedAt: now,
  });
  em.assign(admission, { wardId: bed.wardId, bedId });
  encounter.updatedAt = now;
  await flushOrConflict(em);
  await changeBedStatus(em, tenantId, bedId, ['FREE'], 'OCCUPIED', now, actor.origin);
  await changeBedStatus(em, tenantId, current.bedId, ['OCCUPIED'], 'CLEANING', now, actor.origin);

  await admissionChanged(em, tenantId, 'transferred', actor.origin, {
    encounter,
    wardId: bed.wardId,
    bedId,
    previousWardId: previous.wardId,
    previousBedId: previous.bedId ?? undefined,
    admittedAt: admission.admittedAt,
    effectiveAt: now,
  });
  return encounter;
}

/** Records the doctor's discharge order. The patient keeps the bed until the departure. */
export async function orderDischarge(
  em: EntityManager,
  tenantId: string,
  encounterId: string,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const { encounter, admission } = await lockCurrentStay(em, encounterId);
  if (admission.dischargeOrderedAt) {
    throw HmsError.conflict(`The discharge of encounter ${encounterId} was already ordered.`, {
      reason: 'DISCHARGE_ALREADY_ORDERED',
    });
  }
  em.assign(admission, { dischargeOrderedAt: now, dischargeOrderedBy: actor.userId });
  encounter.updatedAt = now;
  await flushOrConflict(em);
  await admissionChanged(em, tenantId, 'discharge_ordered', actor.origin, {
    encounter,
    wardId: admission.wardId,
    bedId: admission.bedId ?? undefined,
    admittedAt: admission.admittedAt,
    effectiveAt: now,
    changedFields: ['dischargeOrderedAt', 'dischargeOrderedBy'],
  });
  return encounter;
}

/**
 * Records that the patient left after the discharge order: the bed assignment ends, the bed turns
 * CLEANING and the encounter CLOSED.
 */
export async function recordDeparture(
  em: EntityManager,
  tenantId: string,
  encounterId: string,
  departedAt: Date | null | undefined,
  now: Date,
  actor: Actor,
): Promise<Encounter> {
  const at = departedAt ?? now;
  if (at.getTime() > now.getTime()) {
    throw HmsError.badUserInput([{ field: 'departedAt', message: 'must not be in the future' }]);
  }
  const { encounter, admission } = await lockCurrentStay(em, encounterId);
  if (!admission.dischargeOrderedAt) {
    throw HmsError.conflict(
      `The discharge of encounter ${encounterId} has not been ordered. A doctor orders it before the departure is recorded.`,
      { reason: 'DISCHARGE_NOT_ORDERED' },
    );
  }
  if (at.getTime() < admission.dischargeOrderedAt.getTime()) {
    throw HmsError.badUserInput([{ field: 'departedAt', message: 'must not be before the discharge order' }]);
  }
  const current = await currentAssignment(em, encounterId);
  if (at.getTime() <= current.startedAt.getTime()) {
    throw HmsError.badUserInput([
      { field: 'departedAt', message: 'must be after the patient moved into the current bed' },
    ]);
  }

  current.endedAt = at;
  admission.dischargedAt = at;
  const previousStatus = encounter.status;
  em.assign(encounter, { status: 'CLOSED', endedAt: at, updatedAt: now });
  await flushOrConflict(em);
  await changeBedStatus(em, tenantId, current.bedId, ['OCCUPIED'], 'CLEANING', now, actor.origin);

  await admissionChanged(em, tenantId, 'discharged', actor.origin, {
    encounter,
    wardId: admission.wardId,
    bedId: admission.bedId ?? undefined,
    admittedAt: admission.admittedAt,
    dischargedAt: at,
    effectiveAt: at,
    changedFields: ['dischargedAt'],
  });
  await encounterStatusChanged(em, tenantId, encounter, previousStatus, 'closed', actor.origin);
  return encounter;
}

interface StayDraft {
  patientId: string;
  status: 'IN_PROGRESS' | 'CLOSED';
  chiefComplaint: string | null;
  departmentId: string | null;
  attendingId: string;
  admittedAt: Date;
  dischargedAt: Date | null;
  wardId: string;
  bedId: string;
  sourceId: string | null;
  now: Date;
}

/** Inserts the encounter, admission and bed assignment of a stay, one flush each for the foreign keys. */
async function createStay(em: EntityManager, tenantId: string, draft: StayDraft): Promise<Encounter> {
  const encounter = em.create(Encounter, {
    id: newId(),
    tenantId,
    patientId: draft.patientId,
    encounterClass: 'INPATIENT',
    status: draft.status,
    chiefComplaint: draft.chiefComplaint,
    departmentId: draft.departmentId,
    attendingId: draft.attendingId,
    startedAt: draft.admittedAt,
    endedAt: draft.dischargedAt,
    sourceId: draft.sourceId,
    createdAt: draft.now,
    updatedAt: draft.now,
  });
  await flushOrConflict(em);
  em.create(Admission, {
    encounterId: encounter.id,
    tenantId,
    patientId: draft.patientId,
    wardId: draft.wardId,
    bedId: draft.bedId,
    admittedAt: draft.admittedAt,
    dischargedAt: draft.dischargedAt,
  });
  await flushOrConflict(em);
  em.create(BedAssignment, {
    id: newId(),
    tenantId,
    encounterId: encounter.id,
    patientId: draft.patientId,
    wardId: draft.wardId,
    bedId: draft.bedId,
    startedAt: draft.admittedAt,
    endedAt: draft.dischargedAt,
  });
  await flushOrConflict(em);
  return encounter;
}

/**
 * Locks a bed and checks that it is FREE, or throws NOT_FOUND or CONFLICT. Every write that adds a
 * bed assignment takes this lock first, so concurrent admissions to one bed queue here instead of
 * deadlocking in the exclusion constraint's check, where each would wait for the other's row.
 */
async function lockFreeBed(em: EntityManager, bedId: string): Promise<Bed> {
  const bed = await em.findOne(Bed, { id: bedId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!bed) throw HmsError.notFound('Bed', bedId);
  if (bed.status !== 'FREE') {
    throw HmsError.conflict(`Bed ${bed.code} is ${bed.status}. A patient can be put only in a FREE bed.`, {
      bedId,
      status: bed.status,
    });
  }
  return bed;
}

/** Locks an INPATIENT encounter whose patient is still admitted, or throws NOT_FOUND or CONFLICT. */
async function lockCurrentStay(
  em: EntityManager,
  encounterId: string,
): Promise<{ encounter: Encounter; admission: Admission }> {
  const encounter = await lockEncounter(em, encounterId);
  const admission = await em.findOne(Admission, { encounterId });
  if (encounter.encounterClass !== 'INPATIENT' || !admission) {
    throw HmsError.conflict(
      `Encounter ${encounterId} is not a hospital stay (class ${encounter.encounterClass}).`,
      {
        encounterClass: encounter.encounterClass,
      },
    );
  }
  if (admission.dischargedAt || encounter.status !== 'IN_PROGRESS') {
    throw HmsError.conflict(
      `The patient of encounter ${encounterId} has already left (${encounter.status}).`,
      {
        status: encounter.status,
      },
    );
  }
  return { encounter, admission };
}

async function currentAssignment(em: EntityManager, encounterId: string): Promise<BedAssignment> {
  const current = await em.findOne(BedAssignment, { encounterId, endedAt: null });
  if (!current) throw HmsError.internal(`Admitted encounter ${encounterId} has no current bed assignment.`);
  return current;
}

async function admissionChanged(
  em: EntityManager,
  tenantId: string,
  event: 'admitted' | 'transferred' | 'discharge_ordered' | 'discharged' | 'recorded',
  origin: EventOrigin,
  change: {
    encounter: Encounter;
    wardId: string;
    bedId?: string;
    previousWardId?: string;
    previousBedId?: string;
    admittedAt: Date;
    dischargedAt?: Date;
    effectiveAt: Date;
    changedFields?: string[];
  },
): Promise<void> {
  const { encounter } = change;
  await recordChange(em, origin, tenantId, {
    type: `clinical.admission.${event}`,
    subject: { type: ADMISSION, id: encounter.id },
    payloadSchema: AdmissionChangedSchema,
    payload: {
      encounterId: encounter.id,
      patientId: encounter.patientId,
      wardId: change.wardId,
      bedId: change.bedId ?? '',
      previousWardId: change.previousWardId ?? '',
      previousBedId: change.previousBedId ?? '',
      admittedAt: timestampFromDate(change.admittedAt),
      dischargedAt: change.dischargedAt ? timestampFromDate(change.dischargedAt) : undefined,
      effectiveAt: timestampFromDate(change.effectiveAt),
    },
    audit: {
      action: `admission.${event}`,
      operation: event === 'admitted' || event === 'recorded' ? Operation.CREATE : Operation.UPDATE,
      patientId: encounter.patientId,
      changedFields: change.changedFields ?? (event === 'transferred' ? ['wardId', 'bedId'] : undefined),
    },
  });
}
