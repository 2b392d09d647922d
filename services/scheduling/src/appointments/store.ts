import {
  decodeCursor,
  encodeCursor,
  HmsError,
  InputErrors,
  isUuid,
  newId,
  pageSize,
  toConnection,
  type Connection,
  type EntityManager,
  type EventOrigin,
} from '@hms/service-kit';
import { whyNotBookable } from '../schedules/availability.js';
import type { Interval } from '../schedules/model.js';
import { schedulesOf, timeOffBetween } from '../schedules/store.js';
import { assertTenantWritable, patientExists, practitionerOf, type TenantState } from '../tenancy.js';
import { addDays, edgeInstantOf, wallTimeOf } from '../time/zoned.js';
import { appointmentBooked, appointmentRescheduled, appointmentStatusChanged } from './events.js';
import {
  APPOINTMENT_COLUMNS,
  appointmentOf,
  TRANSITIONS,
  type AppointmentRecord,
  type AppointmentRow,
  type CancellationReason,
  type TransitionAction,
} from './model.js';
import { arrayLiteral } from '../sql.js';

const MINUTE_MS = 60_000;
/** Maximum appointment length in minutes, the same as the maximum slot length of a schedule. */
export const MAX_DURATION_MINUTES = 480;
/** Longest imported visit, in minutes: an imported record may be an inpatient day. */
const MAX_IMPORTED_DURATION_MINUTES = 24 * 60;

/**
 * Earliest check-in, in minutes before the start. A visit checked in and completed days ahead would
 * free its slot early, so check-in opens only this close to the start.
 */
export const CHECK_IN_WINDOW_MINUTES = 120;
/** Farthest start of a booking, in days from now. */
export const MAX_BOOKING_HORIZON_DAYS = 365;

const PRACTITIONER_OVERLAP = 'appointments_practitioner_overlap';
const PATIENT_OVERLAP = 'appointments_patient_overlap';
const SOURCE_ID_KEY = 'appointments_tenant_id_source_id_key';

export interface BookAppointmentInput {
  practitionerId: string;
  patientId: string;
  startsAt: Date;
  /** The schedule's slot length when absent. */
  durationMinutes?: number | null;
  /** Lets the patient hold another appointment at the same time with a different practitioner. */
  allowPatientOverlap?: boolean | null;
}

/** Reads appointments by id; ids of other tenants are not found, as row-level security hides them. */
export async function loadAppointments(
  em: EntityManager,
  ids: readonly string[],
): Promise<Map<string, AppointmentRecord>> {
  if (ids.length === 0) return new Map();
  const rows = await em.execute<AppointmentRow[]>(
    `select ${APPOINTMENT_COLUMNS} from scheduling.appointments where id = any(?::uuid[])`,
    [arrayLiteral([...new Set(ids)])],
  );
  return new Map(rows.map((row) => [row.id, appointmentOf(row)]));
}

/**
 * Messages of the participant checks. Scheduling copies users and patients from events, so these
 * checks also reject a user or patient created elsewhere in the last second or so.
 */
export const NOT_A_USER = 'is not a user of this tenant';
export const NOT_A_PATIENT = 'is not a patient of this tenant';

/** Throws BAD_USER_INPUT naming `field` unless the id is a UUID. */
export function assertUuid(id: string, field: string, what: string): void {
  if (!isUuid(id)) throw HmsError.badUserInput([{ field, message: `must be ${what} id (a UUID)` }]);
}

/**
 * Checks the practitioner and patient of a new appointment, naming the field that fails. A past
 * visit may name a practitioner who has since been deactivated (`allowInactive`).
 */
async function assertParticipants(
  em: EntityManager,
  practitionerId: string,
  patientId: string,
  field: (name: string) => string,
  allowInactive = false,
): Promise<void> {
  const errors = new InputErrors();
  const practitioner = await practitionerOf(em, practitionerId);
  if (!practitioner) errors.add(field('practitionerId'), NOT_A_USER);
  else if (!practitioner.active && !allowInactive)
    errors.add(field('practitionerId'), 'is deactivated and takes no new appointments');
  if (!(await patientExists(em, patientId))) errors.add(field('patientId'), NOT_A_PATIENT);
  errors.throwIfAny();
}

/** Throws CONFLICT when the patient has another appointment at this time, for a booking without the flag. */
async function assertPatientFree(
  em: EntityManager,
  patientId: string,
  interval: Interval,
  exceptId: string | undefined,
): Promise<void> {
  // The exclusion constraint covers appointments booked without the flag; this read also finds
  // the patient's earlier bookings that were made with it.
  // NOTE: a flagged and an unflagged booking committed at the same moment can still overlap,
  // because only this read, not the constraint, compares them.
  const [clash] = await em.execute<{ id: string }[]>(
    `select id from scheduling.appointments
      where patient_id = ? and during && tstzrange(?, ?) and kind <> 'IMPORTED'
        and status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS') and id <> coalesce(?::uuid, '00000000-0000-0000-0000-000000000000')
      limit 1`,
    [patientId, interval.start, interval.end, exceptId ?? null],
  );
  if (clash) throw patientConflict(clash.id);
}

function patientConflict(otherId?: string): HmsError {
  return HmsError.conflict(
    'The patient already has an appointment at this time. Choose another time, or set allowPatientOverlap to book both.',
    { reason: 'PATIENT_BUSY', ...(otherId ? { appointmentId: otherId } : {}) },
  );
}

function slotConflict(): HmsError {
  return HmsError.conflict('The practitioner is already booked at this time; choose another slot.', {
    reason: 'SLOT_TAKEN',
  });
}

/** PostgreSQL error codes of a deadlock and of a serialization failure. */
const RETRYABLE_CODES = new Set(['40P01', '40001']);

/** Tells whether PostgreSQL aborted the statement for a deadlock or a serialization failure. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

function concurrentConflict(): HmsError {
  return HmsError.conflict(
    'Another booking for the same practitioner or patient was saved at the same moment; reload the free slots and retry.',
    { reason: 'CONCURRENT_BOOKING' },
  );
}

/**
 * Runs a write, turning the exclusion constraints' violations into CONFLICT errors, and a deadlock
 * or serialization failure into CONFLICT as well, since a retry may succeed.
 */
async function withOverlapCheck<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.includes(PRACTITIONER_OVERLAP)) throw slotConflict();
    if (message.includes(PATIENT_OVERLAP)) throw patientConflict();
    if (isRetryable(error)) throw concurrentConflict();
    throw error;
  }
}

/**
 * Takes transaction-level advisory locks on a booking's practitioner and patient, always in the same
 * order. Two bookings that could collide on either exclusion constraint then run one after the
 * other, so the constraints no longer wait on each other in opposite orders.
 */
async function lockBookingParties(
  em: EntityManager,
  parties: { practitionerId?: string; patientId: string },
): Promise<void> {
  const keys = [`scheduling.patient:${parties.patientId}`];
  if (parties.practitionerId) keys.push(`scheduling.practitioner:${parties.practitionerId}`);
  keys.sort();
  for (const key of keys) {
    await withOverlapCheck(() => em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [key]));
  }
}

/**
 * Validates the time of a new or moved appointment: in the future, of an allowed length, inside the
 * practitioner's working hours and off their holidays, leave and blocks.
 */
async function bookableInterval(
  em: EntityManager,
  tenant: TenantState,
  practitionerId: string,
  startsAt: Date,
  durationMinutes: number | null | undefined,
  now: Date,
  field: (name: string) => string,
): Promise<{ interval: Interval; department: string; location: string | null }> {
  const schedule = (await schedulesOf(em, [practitionerId])).get(practitionerId);
  if (!schedule?.active) {
    throw HmsError.badUserInput([{ field: field('practitionerId'), message: 'has no active schedule' }]);
  }
  const minutes = durationMinutes ?? schedule.slotMinutes;
  const errors = new InputErrors();
  if (!Number.isInteger(minutes) || minutes < 5 || minutes > MAX_DURATION_MINUTES) {
    errors.add(field('durationMinutes'), `must be an integer from 5 to ${MAX_DURATION_MINUTES}`);
  }
  if (startsAt <= now) errors.add(field('startsAt'), 'must be in the future');
  else if (startsAt.getTime() - now.getTime() > MAX_BOOKING_HORIZON_DAYS * 86_400_000) {
    errors.add(field('startsAt'), `must be at most ${MAX_BOOKING_HORIZON_DAYS} days ahead`);
  }
  errors.throwIfAny();

  const interval = { start: startsAt, end: new Date(startsAt.getTime() + minutes * MINUTE_MS) };
  const { date } = wallTimeOf(startsAt, tenant.timeZone);
  const timeOff = await timeOffBetween(
    em,
    date,
    date,
    { start: new Date(startsAt.getTime() - 86_400_000), end: new Date(interval.end.getTime() + 86_400_000) },
    [practitionerId],
  );
  const problem = whyNotBookable(schedule, interval, tenant.timeZone, timeOff);
  if (problem) throw HmsError.badUserInput([{ field: field(problem.field), message: problem.message }]);
  return { interval, department: schedule.department, location: schedule.location };
}

/**
 * Books an appointment into a practitioner's schedule. The exclusion constraints decide between two
 * concurrent bookings of overlapping time: the second insert waits for the first transaction and
 * fails when it commits, which becomes CONFLICT.
 */
export async function bookAppointment(
  em: EntityManager,
  tenantId: string,
  input: BookAppointmentInput,
  now: Date,
  origin: EventOrigin,
  field: (name: string) => string = (name) => `input.${name}`,
): Promise<AppointmentRecord> {
  const tenant = await assertTenantWritable(em);
  assertUuid(input.practitionerId, field('practitionerId'), 'a user');
  assertUuid(input.patientId, field('patientId'), 'a patient');
  await assertParticipants(em, input.practitionerId, input.patientId, field);
  const { interval, department, location } = await bookableInterval(
    em,
    tenant,
    input.practitionerId,
    input.startsAt,
    input.durationMinutes,
    now,
    field,
  );
  const allowOverlap = input.allowPatientOverlap ?? false;
  await lockBookingParties(em, input);
  if (!allowOverlap) await assertPatientFree(em, input.patientId, interval, undefined);

  const appointment = await insertAppointment(em, tenantId, {
    practitionerId: input.practitionerId,
    patientId: input.patientId,
    department,
    location,
    interval,
    status: 'BOOKED',
    kind: 'SCHEDULED',
    patientOverlapAllowed: allowOverlap,
    sourceId: null,
    now,
  });
  await appointmentBooked(em, origin, tenantId, appointment, 'appointment.book');
  return appointment;
}

interface NewAppointment {
  practitionerId: string;
  patientId: string;
  department: string;
  location: string | null;
  interval: Interval;
  status: AppointmentRecord['status'];
  kind: AppointmentRecord['kind'];
  patientOverlapAllowed: boolean;
  sourceId: string | null;
  now: Date;
  checkedInAt?: Date;
  startedAt?: Date;
  completedAt?: Date;
}

async function insertAppointment(
  em: EntityManager,
  tenantId: string,
  values: NewAppointment,
): Promise<AppointmentRecord> {
  const [row] = await withOverlapCheck(() =>
    em.execute<AppointmentRow[]>(
      `insert into scheduling.appointments
         (tenant_id, id, practitioner_id, patient_id, department, location, during, status, kind,
          patient_overlap_allowed, source_id, checked_in_at, started_at, completed_at, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, tstzrange(?, ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)
       returning ${APPOINTMENT_COLUMNS}`,
      [
        tenantId,
        newId(),
        values.practitionerId,
        values.patientId,
        values.department,
        values.location,
        values.interval.start,
        values.interval.end,
        values.status,
        values.kind,
        values.patientOverlapAllowed,
        values.sourceId,
        values.checkedInAt ?? null,
        values.startedAt ?? null,
        values.completedAt ?? null,
        values.now,
        values.now,
      ],
    ),
  );
  return appointmentOf(row!);
}

/**
 * Registers a patient who arrived without a booking: checked in at once, starting now for the
 * schedule's slot length or `durationMinutes`. Walk-ins queue by arrival and hold no slot.
 */
export async function registerWalkIn(
  em: EntityManager,
  tenantId: string,
  input: { practitionerId: string; patientId: string; durationMinutes?: number | null },
  now: Date,
  origin: EventOrigin,
): Promise<AppointmentRecord> {
  await assertTenantWritable(em);
  assertUuid(input.practitionerId, 'input.practitionerId', 'a user');
  assertUuid(input.patientId, 'input.patientId', 'a patient');
  await assertParticipants(em, input.practitionerId, input.patientId, (name) => `input.${name}`);
  const schedule = (await schedulesOf(em, [input.practitionerId])).get(input.practitionerId);
  if (!schedule?.active) {
    throw HmsError.badUserInput([{ field: 'input.practitionerId', message: 'has no active schedule' }]);
  }
  const minutes = input.durationMinutes ?? schedule.slotMinutes;
  if (!Number.isInteger(minutes) || minutes < 5 || minutes > MAX_DURATION_MINUTES) {
    throw HmsError.badUserInput([
      { field: 'input.durationMinutes', message: `must be an integer from 5 to ${MAX_DURATION_MINUTES}` },
    ]);
  }
  const interval = { start: now, end: new Date(now.getTime() + minutes * MINUTE_MS) };
  await lockBookingParties(em, { patientId: input.patientId });
  await assertPatientFree(em, input.patientId, interval, undefined);

  const appointment = await insertAppointment(em, tenantId, {
    practitionerId: input.practitionerId,
    patientId: input.patientId,
    department: schedule.department,
    location: schedule.location,
    interval,
    status: 'CHECKED_IN',
    kind: 'WALK_IN',
    patientOverlapAllowed: false,
    sourceId: null,
    now,
    checkedInAt: now,
  });
  await appointmentBooked(em, origin, tenantId, appointment, 'appointment.walk_in');
  await appointmentStatusChanged(em, origin, tenantId, appointment);
  return appointment;
}

export interface ImportAppointmentInput {
  sourceId: string;
  practitionerId: string;
  patientId: string;
  startsAt: Date;
  endsAt: Date;
  department?: string | null;
  location?: string | null;
}

/** Default department of imported visits whose practitioner has no schedule. */
const IMPORTED_DEPARTMENT = 'general';

/**
 * Records a past visit from another system as a COMPLETED appointment, the only path that writes
 * appointments in the past. Idempotent by sourceId: a second import of the same record returns the
 * stored appointment and writes nothing. Field errors name `<inputPath>.<field>`.
 */
export async function importPastAppointment(
  em: EntityManager,
  tenantId: string,
  input: ImportAppointmentInput,
  now: Date,
  origin: EventOrigin,
  inputPath = 'input',
): Promise<{ appointment: AppointmentRecord; created: boolean }> {
  await assertTenantWritable(em);
  const errors = new InputErrors();
  const sourceId = input.sourceId.trim();
  if (!/^[a-z][a-z0-9-]*:\S{1,200}$/.test(sourceId)) {
    errors.add(`${inputPath}.sourceId`, 'must be <system>:<record id>, such as synthea:Encounter/<uuid>');
  }
  if (!isUuid(input.practitionerId)) errors.add(`${inputPath}.practitionerId`, 'must be a user id (a UUID)');
  if (!isUuid(input.patientId)) errors.add(`${inputPath}.patientId`, 'must be a patient id (a UUID)');
  if (input.endsAt <= input.startsAt) errors.add(`${inputPath}.endsAt`, 'must be after startsAt');
  else if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_IMPORTED_DURATION_MINUTES * MINUTE_MS) {
    errors.add(`${inputPath}.endsAt`, 'must be at most 24 hours after startsAt');
  }
  if (input.endsAt > now) {
    errors.add(`${inputPath}.endsAt`, 'must be in the past; book future appointments with bookAppointment');
  }
  errors.throwIfAny();

  const existing = await appointmentBySource(em, sourceId);
  if (existing) return { appointment: existing, created: false };
  await assertParticipants(em, input.practitionerId, input.patientId, (name) => `${inputPath}.${name}`, true);
  const schedule = (await schedulesOf(em, [input.practitionerId])).get(input.practitionerId);

  let appointment: AppointmentRecord;
  try {
    appointment = await insertAppointment(em, tenantId, {
      practitionerId: input.practitionerId,
      patientId: input.patientId,
      department: input.department?.trim() || schedule?.department || IMPORTED_DEPARTMENT,
      location: input.location?.trim() || schedule?.location || null,
      interval: { start: input.startsAt, end: input.endsAt },
      status: 'COMPLETED',
      kind: 'IMPORTED',
      patientOverlapAllowed: false,
      sourceId,
      now,
      checkedInAt: input.startsAt,
      startedAt: input.startsAt,
      completedAt: input.endsAt,
    });
  } catch (error) {
    if (error instanceof Error && error.message.includes(SOURCE_ID_KEY)) {
      throw HmsError.conflict(`The record ${sourceId} was imported at the same moment; retry to read it.`);
    }
    throw error;
  }
  await appointmentBooked(em, origin, tenantId, appointment, 'appointment.import');
  await appointmentStatusChanged(em, origin, tenantId, appointment);
  return { appointment, created: true };
}

async function appointmentBySource(
  em: EntityManager,
  sourceId: string,
): Promise<AppointmentRecord | undefined> {
  const [row] = await em.execute<AppointmentRow[]>(
    `select ${APPOINTMENT_COLUMNS} from scheduling.appointments where source_id = ?`,
    [sourceId],
  );
  return row ? appointmentOf(row) : undefined;
}

/** Locks an appointment for a change; NOT_FOUND for ids of other tenants too. */
async function lockAppointment(em: EntityManager, id: string): Promise<AppointmentRecord> {
  const [row] = await em.execute<AppointmentRow[]>(
    `select ${APPOINTMENT_COLUMNS} from scheduling.appointments where id = ? for update`,
    [id],
  );
  if (!row) throw HmsError.notFound('Appointment', id);
  return appointmentOf(row);
}

/** Throws CONFLICT unless `action` is allowed from the appointment's status. */
function assertTransition(appointment: AppointmentRecord, action: TransitionAction): void {
  const allowed = TRANSITIONS[action];
  if (allowed.from.includes(appointment.status)) return;
  throw HmsError.conflict(
    `Appointment ${appointment.id} is ${appointment.status}; ${ACTION_NAMES[action]} needs status ${allowed.from.join(' or ')}.`,
    { status: appointment.status, allowedFrom: [...allowed.from] },
  );
}

const ACTION_NAMES: Record<TransitionAction, string> = {
  checkIn: 'checking in',
  start: 'starting',
  complete: 'completing',
  cancel: 'cancelling',
  noShow: 'marking a no-show',
  reschedule: 'rescheduling',
};

/**
 * Applies a status change (check in, start, complete, cancel, no-show) under a row lock, so two
 * concurrent changes apply one after the other and the second reads the first's status.
 */
export async function changeStatus(
  em: EntityManager,
  tenantId: string,
  id: string,
  action: Exclude<TransitionAction, 'reschedule'>,
  now: Date,
  origin: EventOrigin,
  cancellation?: { reason: CancellationReason; note?: string | null },
): Promise<AppointmentRecord> {
  await assertTenantWritable(em);
  const note = cancellation?.note?.trim() || null;
  if (note && note.length > 500) {
    throw HmsError.badUserInput([{ field: 'note', message: 'must be at most 500 characters' }]);
  }
  const appointment = await lockAppointment(em, id);
  assertTransition(appointment, action);
  if (
    action === 'checkIn' &&
    appointment.startsAt.getTime() - now.getTime() > CHECK_IN_WINDOW_MINUTES * MINUTE_MS
  ) {
    throw HmsError.conflict(
      `Appointment ${id} starts at ${appointment.startsAt.toISOString()}; check-in opens ${CHECK_IN_WINDOW_MINUTES} minutes before its start.`,
      { status: appointment.status, reason: 'TOO_EARLY' },
    );
  }
  if (action === 'noShow' && appointment.startsAt > now) {
    throw HmsError.conflict(
      `Appointment ${id} starts at ${appointment.startsAt.toISOString()}; a no-show can be marked only after its start.`,
      { status: appointment.status },
    );
  }

  const column = {
    checkIn: 'checked_in_at',
    start: 'started_at',
    complete: 'completed_at',
    cancel: 'cancelled_at',
    noShow: 'no_show_at',
  }[action];
  const [row] = await em.execute<AppointmentRow[]>(
    `update scheduling.appointments
        set status = ?, ${column} = ?, updated_at = ?,
            cancellation_reason = coalesce(?, cancellation_reason), cancellation_note = coalesce(?, cancellation_note)
      where id = ? returning ${APPOINTMENT_COLUMNS}`,
    [TRANSITIONS[action].to, now, now, cancellation?.reason ?? null, note, id],
  );
  const changed = appointmentOf(row!);
  await appointmentStatusChanged(em, origin, tenantId, changed);
  return changed;
}

/** Moves a booked appointment to another time with the same practitioner, checked as a new booking. */
export async function rescheduleAppointment(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: { startsAt: Date; durationMinutes?: number | null },
  now: Date,
  origin: EventOrigin,
): Promise<AppointmentRecord> {
  const tenant = await assertTenantWritable(em);
  const before = await lockAppointment(em, id);
  assertTransition(before, 'reschedule');
  await assertParticipants(em, before.practitionerId, before.patientId, (name) => `input.${name}`);
  const minutes = input.durationMinutes ?? (before.endsAt.getTime() - before.startsAt.getTime()) / MINUTE_MS;
  const { interval } = await bookableInterval(
    em,
    tenant,
    before.practitionerId,
    input.startsAt,
    minutes,
    now,
    (name) => `input.${name}`,
  );
  await lockBookingParties(em, before);
  if (!before.patientOverlapAllowed) await assertPatientFree(em, before.patientId, interval, id);

  const [row] = await withOverlapCheck(() =>
    em.execute<AppointmentRow[]>(
      `update scheduling.appointments set during = tstzrange(?, ?), updated_at = ? where id = ?
       returning ${APPOINTMENT_COLUMNS}`,
      [interval.start, interval.end, now, id],
    ),
  );
  const after = appointmentOf(row!);
  await appointmentRescheduled(em, origin, tenantId, before, after);
  return after;
}

export interface AppointmentListArguments {
  from?: Date | null;
  to?: Date | null;
  status?: AppointmentRecord['status'][] | null;
  first?: number | null;
  after?: string | null;
}

/**
 * Lists the appointments of one practitioner or patient by start time, as a connection. The cursor
 * is the last row's start and id, which the (tenant_id, practitioner_id | patient_id, lower(during),
 * id) indexes serve.
 */
export async function listAppointments(
  em: EntityManager,
  owner: { practitionerId: string } | { patientId: string },
  args: AppointmentListArguments,
): Promise<Connection<AppointmentRecord>> {
  const size = pageSize(args.first);
  const after = decodeCursor(args.after, 2);
  const column = 'practitionerId' in owner ? 'practitioner_id' : 'patient_id';
  const ownerId = 'practitionerId' in owner ? owner.practitionerId : owner.patientId;
  const filters = `${column} = ? and (?::timestamptz is null or upper(during) > ?)
    and (?::timestamptz is null or lower(during) < ?) and (?::text[] is null or status = any(?::text[]))`;
  const filterParams = [
    ownerId,
    args.from ?? null,
    args.from ?? null,
    args.to ?? null,
    args.to ?? null,
    args.status ? arrayLiteral(args.status) : null,
    args.status ? arrayLiteral(args.status) : null,
  ];
  const rows = await em.execute<AppointmentRow[]>(
    `select ${APPOINTMENT_COLUMNS} from scheduling.appointments
      where ${filters} and (?::timestamptz is null or (lower(during), id) > (?::timestamptz, ?::uuid))
      order by lower(during), id limit ?`,
    [...filterParams, after?.[0] ?? null, after?.[0] ?? null, after?.[1] ?? null, size + 1],
  );
  const [{ count }] = (await em.execute<{ count: string }[]>(
    `select count(*)::text as count from scheduling.appointments where ${filters}`,
    filterParams,
  )) as [{ count: string }];
  return toConnection(
    rows.map(appointmentOf),
    size,
    Number(count),
    (appointment) => encodeCursor([appointment.startsAt.toISOString(), appointment.id]),
    !!after,
  );
}

/** Lists a practitioner's appointments of one local date in the tenant's zone, by start time. */
export async function appointmentsOnDay(
  em: EntityManager,
  practitionerId: string,
  date: string,
  zone: string,
): Promise<AppointmentRecord[]> {
  const rows = await em.execute<AppointmentRow[]>(
    `select ${APPOINTMENT_COLUMNS} from scheduling.appointments
      where practitioner_id = ? and lower(during) >= ? and lower(during) < ?
      order by lower(during), id`,
    [practitionerId, edgeInstantOf(date, 0, zone), edgeInstantOf(addDays(date, 1), 0, zone)],
  );
  return rows.map(appointmentOf);
}

/**
 * Lists booked future appointments whose practitioner identity deactivated, soonest first, so the
 * front desk can move them to another practitioner.
 */
export async function appointmentsToRebook(
  em: EntityManager,
  args: { first?: number | null; after?: string | null },
  now: Date,
): Promise<Connection<AppointmentRecord>> {
  const size = pageSize(args.first);
  const after = decodeCursor(args.after, 2);
  const where = `status in ('BOOKED', 'CHECKED_IN') and lower(during) > ?
    and practitioner_id in (select id from scheduling.practitioners where not active)`;
  const rows = await em.execute<AppointmentRow[]>(
    `select ${APPOINTMENT_COLUMNS} from scheduling.appointments
      where ${where} and (?::timestamptz is null or (lower(during), id) > (?::timestamptz, ?::uuid))
      order by lower(during), id limit ?`,
    [now, after?.[0] ?? null, after?.[0] ?? null, after?.[1] ?? null, size + 1],
  );
  const [{ count }] = (await em.execute<{ count: string }[]>(
    `select count(*)::text as count from scheduling.appointments where ${where}`,
    [now],
  )) as [{ count: string }];
  return toConnection(
    rows.map(appointmentOf),
    size,
    Number(count),
    (appointment) => encodeCursor([appointment.startsAt.toISOString(), appointment.id]),
    !!after,
  );
}

/** Returns the local date of an instant in the tenant's zone; helper of the day view. */
export function localDateOf(instant: Date, zone: string): string {
  return wallTimeOf(instant, zone).date;
}
