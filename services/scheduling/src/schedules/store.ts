import {
  Operation,
  Outcome,
  SCHEDULING_EVENTS_TOPIC,
  ScheduleChangedSchema,
  TimeOffAddedSchema,
  TimeOffKind as TimeOffKindProto,
  TimeOffRemovedSchema,
} from '@hms/proto-schemas';
import { HmsError, InputErrors, isUuid, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { publisher, timestampOf } from '../events.js';
import { assertTenantWritable, practitionerOf } from '../tenancy.js';
import {
  addDays,
  daysBetween,
  edgeInstantOf,
  formatMinutes,
  isTimeZone,
  parseMinutes,
} from '../time/zoned.js';
import { freeSlotsOn, type Slot } from './availability.js';
import {
  WEEKDAYS,
  type DayWindow,
  type Interval,
  type ScheduleRecord,
  type TimeOffRecord,
  type Weekday,
} from './model.js';
import { arrayLiteral } from '../sql.js';

/** Maximum range of one practitioner's free slots, in days, so one request computes a bounded list. */
export const MAX_SLOT_RANGE_DAYS = 31;
/** Maximum range of a department's free slots, in days, because a department lists many practitioners. */
export const MAX_DEPARTMENT_SLOT_RANGE_DAYS = 7;
/** Most schedules one department's free-slot query reads. */
const MAX_DEPARTMENT_SCHEDULES = 200;

export interface DayWindowInput {
  weekday?: Weekday | null;
  start: string;
  end: string;
}

export interface SetScheduleInput {
  practitionerId: string;
  department: string;
  location?: string | null;
  slotMinutes: number;
  weeklyHours: DayWindowInput[];
  breaks?: DayWindowInput[] | null;
  active?: boolean | null;
}

interface ScheduleRow {
  id: string;
  practitioner_id: string;
  department: string;
  location: string | null;
  slot_minutes: number;
  weekly_hours: DayWindow[];
  breaks: DayWindow[];
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

const SCHEDULE_COLUMNS =
  'id, practitioner_id, department, location, slot_minutes, weekly_hours, breaks, active, created_at, updated_at';

function scheduleOf(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    practitionerId: row.practitioner_id,
    department: row.department,
    location: row.location,
    slotMinutes: row.slot_minutes,
    weeklyHours: row.weekly_hours,
    breaks: row.breaks,
    active: row.active,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** Reads the schedules of practitioners, keyed by practitioner id. */
export async function schedulesOf(
  em: EntityManager,
  practitionerIds: readonly string[],
): Promise<Map<string, ScheduleRecord>> {
  if (practitionerIds.length === 0) return new Map();
  const rows = await em.execute<ScheduleRow[]>(
    `select ${SCHEDULE_COLUMNS} from scheduling.schedules where practitioner_id = any(?::uuid[])`,
    [arrayLiteral([...new Set(practitionerIds)])],
  );
  return new Map(rows.map((row) => [row.practitioner_id, scheduleOf(row)]));
}

/** Reads the schedules of a department, or of the whole tenant without one, ordered by practitioner. */
export async function listSchedules(
  em: EntityManager,
  department: string | undefined,
): Promise<ScheduleRecord[]> {
  const rows = await em.execute<ScheduleRow[]>(
    `select ${SCHEDULE_COLUMNS} from scheduling.schedules
      where (?::text is null or department = ?) order by practitioner_id limit ?`,
    [department ?? null, department ?? null, MAX_DEPARTMENT_SCHEDULES],
  );
  return rows.map(scheduleOf);
}

/** Validates weekly hours or breaks, naming each invalid entry; `everyDay` allows a missing weekday. */
function windowsOf(
  inputs: readonly DayWindowInput[],
  field: string,
  errors: InputErrors,
  everyDay: boolean,
): DayWindow[] {
  const windows: DayWindow[] = [];
  inputs.forEach((input, index) => {
    const start = parseMinutes(input.start);
    const end = parseMinutes(input.end);
    if (start === undefined)
      errors.add(`${field}[${index}].start`, 'must be a time of day as HH:MM, 00:00 to 24:00');
    if (end === undefined)
      errors.add(`${field}[${index}].end`, 'must be a time of day as HH:MM, 00:00 to 24:00');
    if (start === undefined || end === undefined) return;
    if (end <= start) {
      errors.add(
        `${field}[${index}].end`,
        `must be after start (${input.start}); a window cannot cross midnight`,
      );
      return;
    }
    if (!input.weekday && !everyDay) {
      errors.add(`${field}[${index}].weekday`, 'is required');
      return;
    }
    const weekdays = input.weekday ? [WEEKDAYS.indexOf(input.weekday) + 1] : [1, 2, 3, 4, 5, 6, 7];
    for (const weekday of weekdays) windows.push({ weekday, start, end });
  });
  return windows;
}

/** Returns the index pair of the first two windows of one weekday that overlap, if any. */
function firstOverlap(windows: readonly DayWindow[]): [DayWindow, DayWindow] | undefined {
  const sorted = [...windows].sort((a, b) => a.weekday - b.weekday || a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (previous.weekday === current.weekday && current.start < previous.end) return [previous, current];
  }
  return undefined;
}

/**
 * Creates or replaces the schedule of a practitioner, and writes its event and audit record naming
 * the changed fields. The practitioner must be an active user identity announced.
 *
 * NOTE: a practitioner has one schedule, so one department and location for every weekday.
 * A practitioner who works in two departments would need a schedule per department, which is not
 * modelled yet.
 */
export async function setSchedule(
  em: EntityManager,
  tenantId: string,
  input: SetScheduleInput,
  now: Date,
  origin: EventOrigin,
): Promise<ScheduleRecord> {
  await assertTenantWritable(em);
  const errors = new InputErrors();
  if (!isUuid(input.practitionerId)) errors.add('input.practitionerId', 'must be a user id (a UUID)');
  const department = input.department.trim();
  if (!department || department.length > 100) errors.add('input.department', 'must be 1 to 100 characters');
  const location = input.location?.trim() || null;
  if (location && location.length > 200) errors.add('input.location', 'must be at most 200 characters');
  if (!Number.isInteger(input.slotMinutes) || input.slotMinutes < 5 || input.slotMinutes > 480) {
    errors.add('input.slotMinutes', 'must be an integer from 5 to 480');
  }
  if (input.weeklyHours.length === 0 || input.weeklyHours.length > 70) {
    errors.add('input.weeklyHours', 'must list 1 to 70 windows');
  }
  const weeklyHours = windowsOf(input.weeklyHours, 'input.weeklyHours', errors, false);
  const breaks = windowsOf(input.breaks ?? [], 'input.breaks', errors, true);
  const overlap = firstOverlap(weeklyHours);
  if (overlap) {
    const [a, b] = overlap;
    errors.add(
      'input.weeklyHours',
      `windows must not overlap: ${WEEKDAYS[a.weekday - 1]} ${formatMinutes(a.start)}-${formatMinutes(a.end)} and ${formatMinutes(b.start)}-${formatMinutes(b.end)}`,
    );
  }
  errors.throwIfAny();

  const practitioner = await practitionerOf(em, input.practitionerId);
  if (!practitioner?.active) {
    throw HmsError.badUserInput([
      { field: 'input.practitionerId', message: 'must be an active user of this tenant' },
    ]);
  }

  const [existing] = await em.execute<ScheduleRow[]>(
    `select ${SCHEDULE_COLUMNS} from scheduling.schedules where practitioner_id = ? for update`,
    [input.practitionerId],
  );
  const values = {
    department,
    location,
    slotMinutes: input.slotMinutes,
    weeklyHours,
    breaks,
    active: input.active ?? true,
  };
  const id = existing?.id ?? newId();
  await em.execute(
    `insert into scheduling.schedules
       (tenant_id, id, practitioner_id, department, location, slot_minutes, weekly_hours, breaks, active, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?)
     on conflict (tenant_id, practitioner_id) do update
       set department = excluded.department, location = excluded.location, slot_minutes = excluded.slot_minutes,
           weekly_hours = excluded.weekly_hours, breaks = excluded.breaks, active = excluded.active,
           updated_at = excluded.updated_at`,
    [
      tenantId,
      id,
      input.practitionerId,
      department,
      location,
      input.slotMinutes,
      JSON.stringify(weeklyHours),
      JSON.stringify(breaks),
      values.active,
      now,
      now,
    ],
  );

  const before = existing ? scheduleOf(existing) : undefined;
  const changedFields = (Object.keys(values) as (keyof typeof values)[]).filter(
    (field) => !before || JSON.stringify(before[field]) !== JSON.stringify(values[field]),
  );
  await publisher.publishEvent(em, origin, {
    topic: SCHEDULING_EVENTS_TOPIC,
    type: 'scheduling.schedule.changed',
    tenantId,
    subject: { type: 'Schedule', id },
    payloadSchema: ScheduleChangedSchema,
    payload: { scheduleId: id, practitionerId: input.practitionerId, changedFields },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: existing ? 'schedule.update' : 'schedule.create',
    operation: existing ? Operation.UPDATE : Operation.CREATE,
    entity: { type: 'Schedule', id },
    changedFields,
    outcome: Outcome.SUCCESS,
  });

  return {
    id,
    practitionerId: input.practitionerId,
    ...values,
    createdAt: before?.createdAt ?? now,
    updatedAt: now,
  };
}

interface TimeOffRow {
  id: string;
  kind: TimeOffRecord['kind'];
  practitioner_id: string | null;
  start_date: string | null;
  end_date: string | null;
  starts_at: Date | null;
  ends_at: Date | null;
  note: string | null;
  created_at: Date;
}

const TIME_OFF_COLUMNS = `id, kind, practitioner_id, to_char(start_date, 'YYYY-MM-DD') as start_date,
  to_char(end_date, 'YYYY-MM-DD') as end_date, lower(during) as starts_at, upper(during) as ends_at, note, created_at`;

function timeOffOf(row: TimeOffRow): TimeOffRecord {
  return {
    id: row.id,
    kind: row.kind,
    practitionerId: row.practitioner_id,
    startDate: row.start_date,
    endDate: row.end_date,
    startsAt: row.starts_at ? new Date(row.starts_at) : null,
    endsAt: row.ends_at ? new Date(row.ends_at) : null,
    note: row.note,
    createdAt: new Date(row.created_at),
  };
}

/**
 * Reads the time off that touches local dates `from` to `to` for the given practitioners, tenant-wide
 * holidays included. `window` bounds the blocks, which are intervals of instants.
 */
export async function timeOffBetween(
  em: EntityManager,
  from: string,
  to: string,
  window: Interval,
  practitionerIds: readonly string[] | undefined,
): Promise<TimeOffRecord[]> {
  const rows = await em.execute<TimeOffRow[]>(
    `select ${TIME_OFF_COLUMNS} from scheduling.time_off
      where (practitioner_id is null or ?::uuid[] is null or practitioner_id = any(?::uuid[]))
        and ((during is null and start_date <= ?::date and end_date >= ?::date)
          or (during && tstzrange(?, ?)))
      order by coalesce(start_date::timestamptz, lower(during)), id`,
    [
      practitionerIds ? arrayLiteral(practitionerIds) : null,
      practitionerIds ? arrayLiteral(practitionerIds) : null,
      to,
      from,
      window.start,
      window.end,
    ],
  );
  return rows.map(timeOffOf);
}

export interface TimeOffInput {
  kind: TimeOffRecord['kind'];
  practitionerId?: string | null;
  startDate?: string | null;
  endDate?: string | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  note?: string | null;
}

/** Maximum length of a holiday, leave or block, in days, so a mistyped year does not close a calendar. */
const MAX_TIME_OFF_DAYS = 366;

/** Validates and stores a holiday, leave or block, and writes its event and audit record. */
export async function addTimeOff(
  em: EntityManager,
  tenantId: string,
  input: TimeOffInput,
  now: Date,
  origin: EventOrigin,
): Promise<TimeOffRecord> {
  const tenant = await assertTenantWritable(em);
  const errors = new InputErrors();
  const note = input.note?.trim() || null;
  if (note && note.length > 500) errors.add('input.note', 'must be at most 500 characters');

  if (input.kind !== 'HOLIDAY') {
    if (!input.practitionerId || !isUuid(input.practitionerId)) {
      errors.add('input.practitionerId', 'must be a user id (a UUID)');
    }
  }
  if (input.kind === 'BLOCK') {
    if (!input.startsAt || !input.endsAt || input.endsAt <= input.startsAt) {
      errors.add('input.endsAt', 'must be after startsAt');
    } else if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_TIME_OFF_DAYS * 86_400_000) {
      errors.add('input.endsAt', `must be at most ${MAX_TIME_OFF_DAYS} days after startsAt`);
    }
  } else if (!input.startDate || !input.endDate || input.endDate < input.startDate) {
    errors.add('input.endDate', 'must be on or after startDate');
  } else if (daysBetween(input.startDate, input.endDate) >= MAX_TIME_OFF_DAYS) {
    errors.add('input.endDate', `must be at most ${MAX_TIME_OFF_DAYS} days after startDate`);
  }
  errors.throwIfAny();

  if (input.kind !== 'HOLIDAY') {
    const practitioner = await practitionerOf(em, input.practitionerId!);
    if (!practitioner) {
      throw HmsError.badUserInput([
        { field: 'input.practitionerId', message: 'must be a user of this tenant' },
      ]);
    }
  }

  const id = newId();
  const practitionerId = input.kind === 'HOLIDAY' ? null : input.practitionerId!;
  const during = input.kind === 'BLOCK' ? [input.startsAt!, input.endsAt!] : [null, null];
  await em.execute(
    `insert into scheduling.time_off (tenant_id, id, kind, practitioner_id, start_date, end_date, during, note, created_at)
     values (?, ?, ?, ?, ?::date, ?::date, case when ?::timestamptz is null then null else tstzrange(?, ?) end, ?, ?)`,
    [
      tenantId,
      id,
      input.kind,
      practitionerId,
      input.kind === 'BLOCK' ? null : input.startDate,
      input.kind === 'BLOCK' ? null : input.endDate,
      during[0],
      during[0],
      during[1],
      note,
      now,
    ],
  );

  // Holidays and leave are whole local days; the event carries their instants in the tenant's zone
  // as it is now. Slots always use the dates, so a later change of zone moves the days with it.
  const startsAt =
    input.kind === 'BLOCK' ? input.startsAt! : edgeInstantOf(input.startDate!, 0, tenant.timeZone);
  const endsAt =
    input.kind === 'BLOCK' ? input.endsAt! : edgeInstantOf(addDays(input.endDate!, 1), 0, tenant.timeZone);
  await publisher.publishEvent(em, origin, {
    topic: SCHEDULING_EVENTS_TOPIC,
    type: 'scheduling.time_off.added',
    tenantId,
    subject: { type: 'TimeOff', id },
    payloadSchema: TimeOffAddedSchema,
    payload: {
      timeOffId: id,
      kind: TimeOffKindProto[input.kind],
      practitionerId: practitionerId ?? '',
      startsAt: timestampOf(startsAt),
      endsAt: timestampOf(endsAt),
    },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'time_off.create',
    operation: Operation.CREATE,
    entity: { type: 'TimeOff', id },
    outcome: Outcome.SUCCESS,
  });

  return {
    id,
    kind: input.kind,
    practitionerId,
    startDate: input.kind === 'BLOCK' ? null : input.startDate!,
    endDate: input.kind === 'BLOCK' ? null : input.endDate!,
    startsAt: input.kind === 'BLOCK' ? input.startsAt! : null,
    endsAt: input.kind === 'BLOCK' ? input.endsAt! : null,
    note,
    createdAt: now,
  };
}

/** Deletes a holiday, leave or block and writes its event and audit record. */
export async function removeTimeOff(
  em: EntityManager,
  tenantId: string,
  id: string,
  origin: EventOrigin,
): Promise<TimeOffRecord> {
  await assertTenantWritable(em);
  const [row] = await em.execute<TimeOffRow[]>(
    `delete from scheduling.time_off where id = ? returning ${TIME_OFF_COLUMNS}`,
    [id],
  );
  if (!row) throw HmsError.notFound('TimeOff', id);
  const removed = timeOffOf(row);
  await publisher.publishEvent(em, origin, {
    topic: SCHEDULING_EVENTS_TOPIC,
    type: 'scheduling.time_off.removed',
    tenantId,
    subject: { type: 'TimeOff', id },
    payloadSchema: TimeOffRemovedSchema,
    payload: {
      timeOffId: id,
      kind: TimeOffKindProto[removed.kind],
      practitionerId: removed.practitionerId ?? '',
    },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'time_off.delete',
    operation: Operation.DELETE,
    entity: { type: 'TimeOff', id },
    outcome: Outcome.SUCCESS,
  });
  return removed;
}

export interface FreeSlotArguments {
  practitionerId?: string | null;
  department?: string | null;
  from: string;
  to: string;
}

/**
 * Computes the free slots of a practitioner or of every practitioner of a department over local
 * dates `from` to `to` (inclusive): their schedules minus holidays, leave, blocks and the intervals
 * of appointments that hold time. Practitioners identity deactivated offer none.
 */
export async function freeSlots(
  em: EntityManager,
  args: FreeSlotArguments,
  zone: string,
  now: Date,
): Promise<Slot[]> {
  const errors = new InputErrors();
  const byPractitioner = !!args.practitionerId;
  if (byPractitioner === !!args.department?.trim()) {
    errors.add('practitionerId', 'give exactly one of practitionerId and department');
  } else if (byPractitioner && !isUuid(args.practitionerId!)) {
    errors.add('practitionerId', 'must be a user id (a UUID)');
  }
  const limit = byPractitioner ? MAX_SLOT_RANGE_DAYS : MAX_DEPARTMENT_SLOT_RANGE_DAYS;
  const days = daysBetween(args.from, args.to) + 1;
  if (days < 1) errors.add('to', `must be on or after from (${args.from})`);
  else if (days > limit) {
    errors.add('to', `must be at most ${limit - 1} days after from: a range covers at most ${limit} days`);
  }
  errors.throwIfAny();

  const schedules = byPractitioner
    ? [...(await schedulesOf(em, [args.practitionerId!])).values()]
    : await listSchedules(em, args.department!.trim());
  const practitionerIds = schedules.map((schedule) => schedule.practitionerId);
  if (practitionerIds.length === 0) return [];

  const active = new Set(
    (
      await em.execute<{ id: string }[]>(
        'select id from scheduling.practitioners where active and id = any(?::uuid[])',
        [arrayLiteral(practitionerIds)],
      )
    ).map((row) => row.id),
  );
  // A day in any zone lies within a day before and two days after its UTC date.
  const window = {
    start: new Date(Date.parse(`${addDays(args.from, -1)}T00:00:00Z`)),
    end: new Date(Date.parse(`${addDays(args.to, 2)}T00:00:00Z`)),
  };
  const timeOff = await timeOffBetween(em, args.from, args.to, window, practitionerIds);
  const busyRows = await em.execute<{ practitioner_id: string; starts_at: Date; ends_at: Date }[]>(
    `select practitioner_id, lower(during) as starts_at, upper(during) as ends_at from scheduling.appointments
      where practitioner_id = any(?::uuid[]) and during && tstzrange(?, ?)
        and kind = 'SCHEDULED' and status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS', 'COMPLETED')`,
    [arrayLiteral(practitionerIds), window.start, window.end],
  );

  const slots: Slot[] = [];
  for (const schedule of schedules) {
    if (!active.has(schedule.practitionerId)) continue;
    const busy = busyRows
      .filter((row) => row.practitioner_id === schedule.practitionerId)
      .map((row) => ({ start: new Date(row.starts_at), end: new Date(row.ends_at) }));
    for (let date = args.from; date <= args.to; date = addDays(date, 1)) {
      slots.push(...freeSlotsOn(schedule, date, zone, timeOff, busy, now));
    }
  }
  return slots.sort(
    (a, b) => a.start.getTime() - b.start.getTime() || a.practitionerId.localeCompare(b.practitionerId),
  );
}

/** Checks a time zone name from identity; an unknown one falls back to UTC with a warning by the caller. */
export function usableTimeZone(zone: string): string {
  return isTimeZone(zone) ? zone : 'UTC';
}
