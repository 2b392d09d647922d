import { edgeInstantOf, instantsOf, wallTimeOf, weekdayOf } from '../time/zoned.js';
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

/**
 * Returns why an interval cannot be booked with a practitioner, or undefined when it lies inside
 * one working segment of its local date, off holidays, leave and blocks.
 */
export function whyNotBookable(
  schedule: ScheduleRecord,
  interval: Interval,
  zone: string,
  timeOff: readonly TimeOffRecord[],
): string | undefined {
  if (!schedule.active) return 'the practitioner has no active schedule';
  const { date } = wallTimeOf(interval.start, zone);
  const dayOff = dayOffOn(date, schedule.practitionerId, timeOff);
  if (dayOff) {
    return dayOff.kind === 'HOLIDAY' ? `${date} is a holiday` : `the practitioner is on leave on ${date}`;
  }
  const inside = workingSegments(schedule, weekdayOf(date)).some(
    (segment) =>
      edgeInstantOf(date, segment.start, zone) <= interval.start &&
      interval.end <= edgeInstantOf(date, segment.end, zone),
  );
  if (!inside) return `is outside the practitioner's working hours on ${date} (${zone})`;
  if (blocksOf(schedule.practitionerId, timeOff).some((block) => overlaps(block, interval))) {
    return 'overlaps time the practitioner has blocked';
  }
  return undefined;
}
