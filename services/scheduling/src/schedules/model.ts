/** Weekday names as the schema serves them, Monday first, so index + 1 is the ISO weekday. */
export const WEEKDAYS = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A span of wall-clock time on a weekday: minutes after local midnight, end exclusive. */
export interface DayWindow {
  /** ISO weekday, 1 for Monday to 7 for Sunday. */
  weekday: number;
  start: number;
  end: number;
}

/** A practitioner's schedule as stored. */
export interface ScheduleRecord {
  id: string;
  practitionerId: string;
  department: string;
  location: string | null;
  slotMinutes: number;
  weeklyHours: DayWindow[];
  breaks: DayWindow[];
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const TIME_OFF_KINDS = ['HOLIDAY', 'LEAVE', 'BLOCK'] as const;
export type TimeOffKind = (typeof TIME_OFF_KINDS)[number];

/** A holiday, leave or block as stored. Dates are local dates of the tenant's time zone, inclusive. */
export interface TimeOffRecord {
  id: string;
  kind: TimeOffKind;
  practitionerId: string | null;
  startDate: string | null;
  endDate: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  note: string | null;
  createdAt: Date;
}

/** An interval of instants, end exclusive. */
export interface Interval {
  start: Date;
  end: Date;
}

/** Tells whether two half-open intervals share an instant. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}
