import { edgeInstantOf, formatMinutes, instantsOf, wallTimeOf, weekdayOf } from '../time/zoned.js';
import { overlaps, type DayWindow, type Interval, type ScheduleRecord, type TimeOffRecord } from './model.js';

const MINUTE_MS = 60_000;

/** A bookable slot of a practitioner. */
export interface Slot extends Interval {
  practitionerId: string;
  department: string;
  location: string | null;
}

/** Tells whether a holiday of the tenant or a leave of the practitioner covers a local date. */
export function dayOffOn(
  date: string,
  practitionerId: string,
  timeOff: readonly TimeOffRecord[],
): TimeOffRecord | undefined {
  return timeOff.find(
    (entry) =>
      (entry.kind === 'HOLIDAY' || (entry.kind === 'LEAVE' && entry.practitionerId === practitionerId)) &&
      entry.startDate !== null &&
      entry.endDate !== null &&
      entry.startDate <= date &&
      date <= entry.endDate,
  );
}

/** Returns the practitioner's blocks as intervals. */
function blocksOf(practitionerId: string, timeOff: readonly TimeOffRecord[]): Interval[] {
  return timeOff
    .filter((entry) => entry.kind === 'BLOCK' && entry.practitionerId === practitionerId)
    .map((entry) => ({ start: entry.startsAt!, end: entry.endsAt! }));
}

/**
 * Returns the working windows of a weekday minus its breaks, in wall-clock minutes, earliest first.
 * Validation keeps windows of one weekday apart, and breaks only cut them.
 */
export function workingSegments(schedule: ScheduleRecord, weekday: number): { start: number; end: number }[] {
  const breaks = schedule.breaks.filter((entry) => entry.weekday === weekday);
  const segments: { start: number; end: number }[] = [];
  for (const window of schedule.weeklyHours.filter((entry) => entry.weekday === weekday)) {
    let pieces = [{ start: window.start, end: window.end }];
    for (const cut of breaks) pieces = pieces.flatMap((piece) => subtract(piece, cut));
    segments.push(...pieces);
  }
  return segments.sort((a, b) => a.start - b.start);
}

function subtract(piece: { start: number; end: number }, cut: DayWindow): { start: number; end: number }[] {
  if (cut.end <= piece.start || piece.end <= cut.start) return [piece];
  const rest = [];
  if (piece.start < cut.start) rest.push({ start: piece.start, end: cut.start });
  if (cut.end < piece.end) rest.push({ start: cut.end, end: piece.end });
  return rest;
}

/**
 * Computes the free slots of one practitioner on one local date: slots start on the wall clock at
 * the start of each working segment and every slot length after it. A wall time that does not
 * exist (the hour skipped when clocks spring forward) offers no slot, and a wall time that exists
 * twice (the hour repeated when clocks fall back) offers one slot, at its first occurrence. A slot
 * lasts slotMinutes of real time and must end by the segment's end.
 */
export function freeSlotsOn(
  schedule: ScheduleRecord,
  date: string,
  zone: string,
  timeOff: readonly TimeOffRecord[],
  busy: readonly Interval[],
  now: Date,
): Slot[] {
  if (!schedule.active || dayOffOn(date, schedule.practitionerId, timeOff)) return [];
  const taken = [...blocksOf(schedule.practitionerId, timeOff), ...busy];
  const slots: Slot[] = [];

  for (const segment of workingSegments(schedule, weekdayOf(date))) {
    const segmentEnd = edgeInstantOf(date, segment.end, zone);
    for (
      let minute = segment.start;
      minute + schedule.slotMinutes <= segment.end;
      minute += schedule.slotMinutes
    ) {
      const [start] = instantsOf(date, minute, zone);
      if (!start) continue;
      const slot = { start, end: new Date(start.getTime() + schedule.slotMinutes * MINUTE_MS) };
      if (slot.end > segmentEnd || slot.start <= now) continue;
      if (taken.some((interval) => overlaps(interval, slot))) continue;
      slots.push({
        ...slot,
        practitionerId: schedule.practitionerId,
        department: schedule.department,
        location: schedule.location,
      });
    }
  }
  return slots;
}

/** Reason an interval cannot be booked, and the input field it is about. */
export interface BookingProblem {
  field: 'startsAt' | 'durationMinutes';
  message: string;
}

/**
 * Returns why an interval cannot be booked with a practitioner, or undefined when it lies inside
 * one working segment of its local date, off holidays, leave and blocks. A start inside working
 * hours whose end runs into a break or the end of the day is a `durationMinutes` problem.
 */
export function whyNotBookable(
  schedule: ScheduleRecord,
  interval: Interval,
  zone: string,
  timeOff: readonly TimeOffRecord[],
): BookingProblem | undefined {
  if (!schedule.active) return { field: 'startsAt', message: 'the practitioner has no active schedule' };
  const { date } = wallTimeOf(interval.start, zone);
  const dayOff = dayOffOn(date, schedule.practitionerId, timeOff);
  if (dayOff) {
    const message =
      dayOff.kind === 'HOLIDAY' ? `${date} is a holiday` : `the practitioner is on leave on ${date}`;
    return { field: 'startsAt', message };
  }
  const segment = workingSegments(schedule, weekdayOf(date)).find(
    (candidate) =>
      edgeInstantOf(date, candidate.start, zone) <= interval.start &&
      interval.start < edgeInstantOf(date, candidate.end, zone),
  );
  if (!segment) {
    return { field: 'startsAt', message: `is outside the practitioner's working hours on ${date} (${zone})` };
  }
  const segmentEnd = edgeInstantOf(date, segment.end, zone);
  if (interval.end > segmentEnd) {
    const fit = Math.floor((segmentEnd.getTime() - interval.start.getTime()) / 60_000);
    return {
      field: 'durationMinutes',
      message: `runs past ${formatMinutes(segment.end)} (${zone}), where the practitioner's working hours or a break begin; at most ${fit} minutes fit from this start`,
    };
  }
  if (blocksOf(schedule.practitionerId, timeOff).some((block) => overlaps(block, interval))) {
    return { field: 'startsAt', message: 'overlaps time the practitioner has blocked' };
  }
  return undefined;
}
