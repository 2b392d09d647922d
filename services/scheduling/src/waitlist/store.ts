import { Operation, Outcome, SCHEDULING_EVENTS_TOPIC, WaitlistEntryChangedSchema } from '@hms/proto-schemas';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { bookAppointment, assertUuid } from '../appointments/store.js';
import type { AppointmentRecord } from '../appointments/model.js';
import { publisher } from '../events.js';
import { assertTenantWritable, patientExists, practitionerOf } from '../tenancy.js';
import { workingSegments } from '../schedules/availability.js';
import { WEEKDAYS } from '../schedules/model.js';
import { schedulesOf } from '../schedules/store.js';
import { wallTimeOf, weekdayOf } from '../time/zoned.js';

export type WaitlistStatus = 'WAITING' | 'BOOKED' | 'REMOVED';

/** A patient waiting for a free slot of a practitioner on one local date. */
export interface WaitlistEntryRecord {
  id: string;
  practitionerId: string;
  patientId: string;
  /** YYYY-MM-DD in the tenant's time zone. */
  day: string;
  note: string | null;
  status: WaitlistStatus;
  appointmentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface WaitlistRow {
  id: string;
  practitioner_id: string;
  patient_id: string;
  day: string;
  note: string | null;
  status: WaitlistStatus;
  appointment_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, practitioner_id, patient_id, to_char(day, 'YYYY-MM-DD') as day, note, status,
  appointment_id, created_at, updated_at`;

function entryOf(row: WaitlistRow): WaitlistEntryRecord {
  return {
    id: row.id,
    practitionerId: row.practitioner_id,
    patientId: row.patient_id,
    day: row.day,
    note: row.note,
    status: row.status,
    appointmentId: row.appointment_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

async function entryChanged(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  entry: WaitlistEntryRecord,
  type: 'scheduling.waitlist.added' | 'scheduling.waitlist.removed',
  action: string,
  operation: Operation,
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: SCHEDULING_EVENTS_TOPIC,
    type,
    tenantId,
    subject: { type: 'WaitlistEntry', id: entry.id },
    payloadSchema: WaitlistEntryChangedSchema,
    payload: {
      entryId: entry.id,
      practitionerId: entry.practitionerId,
      patientId: entry.patientId,
      day: entry.day,
      appointmentId: entry.appointmentId ?? '',
    },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action,
    operation,
    entity: { type: 'WaitlistEntry', id: entry.id },
    patientId: entry.patientId,
    changedFields: operation === Operation.UPDATE ? ['status'] : [],
    outcome: Outcome.SUCCESS,
  });
}

/**
 * Returns why the practitioner takes no appointments on a local date (no active schedule, or no
 * working hours on its weekday), or undefined when they work that day.
 */
async function whyNotWorkDay(
  em: EntityManager,
  practitionerId: string,
  day: string,
): Promise<string | undefined> {
  const schedule = (await schedulesOf(em, [practitionerId])).get(practitionerId);
  if (!schedule?.active) return 'cannot be waited for: the practitioner has no active schedule';
  if (workingSegments(schedule, weekdayOf(day)).length > 0) return undefined;
  const workDays = WEEKDAYS.filter((_, index) => workingSegments(schedule, index + 1).length > 0);
  return `is a ${WEEKDAYS[weekdayOf(day) - 1]}, when the practitioner does not work; choose a date on ${workDays.join(', ')}`;
}

/** Adds a patient to the end of a practitioner's waitlist for a day that has not passed. */
export async function addToWaitlist(
  em: EntityManager,
  tenantId: string,
  input: { practitionerId: string; patientId: string; day: string; note?: string | null },
  now: Date,
  origin: EventOrigin,
): Promise<WaitlistEntryRecord> {
  const tenant = await assertTenantWritable(em);
  assertUuid(input.practitionerId, 'input.practitionerId', 'a user');
  assertUuid(input.patientId, 'input.patientId', 'a patient');
  const errors = new InputErrors();
  const practitioner = await practitionerOf(em, input.practitionerId);
  if (!practitioner?.active) errors.add('input.practitionerId', 'must be an active user of this tenant');
  if (!(await patientExists(em, input.patientId)))
    errors.add('input.patientId', 'is not a patient of this tenant');
  const today = wallTimeOf(now, tenant.timeZone).date;
  if (input.day < today) errors.add('input.day', `must be today (${today}) or later`);
  else {
    const workDay = await whyNotWorkDay(em, input.practitionerId, input.day);
    if (workDay) errors.add('input.day', workDay);
  }
  const note = input.note?.trim() || null;
  if (note && note.length > 500) errors.add('input.note', 'must be at most 500 characters');
  errors.throwIfAny();

  const rows = await em.execute<WaitlistRow[]>(
    `insert into scheduling.waitlist_entries
       (tenant_id, id, practitioner_id, patient_id, day, note, status, created_at, updated_at)
     values (?, ?, ?, ?, ?::date, ?, 'WAITING', ?, ?)
     on conflict (tenant_id, practitioner_id, day, patient_id) where status = 'WAITING' do nothing
     returning ${COLUMNS}`,
    [tenantId, newId(), input.practitionerId, input.patientId, input.day, note, now, now],
  );
  if (rows.length === 0) {
    throw HmsError.conflict("The patient is already on this practitioner's waitlist for that day.");
  }
  const entry = entryOf(rows[0]!);
  await entryChanged(
    em,
    origin,
    tenantId,
    entry,
    'scheduling.waitlist.added',
    'waitlist.add',
    Operation.CREATE,
  );
  return entry;
}

/** Lists the waiting entries of a practitioner's day in the order they were added. */
export async function listWaitlist(
  em: EntityManager,
  practitionerId: string,
  day: string,
): Promise<WaitlistEntryRecord[]> {
  const rows = await em.execute<WaitlistRow[]>(
    `select ${COLUMNS} from scheduling.waitlist_entries
      where practitioner_id = ? and day = ?::date and status = 'WAITING' order by created_at, id limit 500`,
    [practitionerId, day],
  );
  return rows.map(entryOf);
}

async function lockWaiting(em: EntityManager, id: string): Promise<WaitlistEntryRecord> {
  const [row] = await em.execute<WaitlistRow[]>(
    `select ${COLUMNS} from scheduling.waitlist_entries where id = ? for update`,
    [id],
  );
  if (!row) throw HmsError.notFound('WaitlistEntry', id);
  const entry = entryOf(row);
  if (entry.status !== 'WAITING') {
    throw HmsError.conflict(`Waitlist entry ${id} is ${entry.status}; only a WAITING entry can change.`, {
      status: entry.status,
    });
  }
  return entry;
}

/** Takes a patient off a waitlist without booking. */
export async function removeFromWaitlist(
  em: EntityManager,
  tenantId: string,
  id: string,
  now: Date,
  origin: EventOrigin,
): Promise<WaitlistEntryRecord> {
  await assertTenantWritable(em);
  await lockWaiting(em, id);
  const [row] = await em.execute<WaitlistRow[]>(
    `update scheduling.waitlist_entries set status = 'REMOVED', updated_at = ? where id = ? returning ${COLUMNS}`,
    [now, id],
  );
  const entry = entryOf(row!);
  await entryChanged(
    em,
    origin,
    tenantId,
    entry,
    'scheduling.waitlist.removed',
    'waitlist.remove',
    Operation.UPDATE,
  );
  return entry;
}

/**
 * Books a waiting patient into a slot of the entry's practitioner on the entry's day and takes the
 * entry off the list, in one transaction: either both happen or neither.
 */
export async function bookFromWaitlist(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: { startsAt: Date; durationMinutes?: number | null },
  now: Date,
  origin: EventOrigin,
): Promise<AppointmentRecord> {
  const tenant = await assertTenantWritable(em);
  const entry = await lockWaiting(em, id);
  if (wallTimeOf(input.startsAt, tenant.timeZone).date !== entry.day) {
    throw HmsError.badUserInput([
      { field: 'startsAt', message: `must be on the waitlist day ${entry.day} (${tenant.timeZone})` },
    ]);
  }
  const appointment = await bookAppointment(
    em,
    tenantId,
    {
      practitionerId: entry.practitionerId,
      patientId: entry.patientId,
      startsAt: input.startsAt,
      durationMinutes: input.durationMinutes,
    },
    now,
    origin,
    (name) => (name === 'startsAt' || name === 'durationMinutes' ? name : `entry.${name}`),
  );
  const [row] = await em.execute<WaitlistRow[]>(
    `update scheduling.waitlist_entries set status = 'BOOKED', appointment_id = ?, updated_at = ?
      where id = ? returning ${COLUMNS}`,
    [appointment.id, now, id],
  );
  await entryChanged(
    em,
    origin,
    tenantId,
    entryOf(row!),
    'scheduling.waitlist.removed',
    'waitlist.book',
    Operation.UPDATE,
  );
  return appointment;
}
