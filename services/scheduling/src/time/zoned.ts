/**
 * Wall-clock arithmetic in IANA time zones with the Intl API of Node.js (Temporal is not enabled in
 * Node.js 24). Schedules are written in wall-clock time (09:00 to 17:00 in the tenant's zone), and
 * appointments are stored as UTC instants, so every slot goes through these conversions.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Tells whether `zone` is an IANA time zone name in this Node.js's time zone data. */
export function isTimeZone(zone: string): boolean {
  try {
    formatterOf(zone);
    return true;
  } catch {
    return false;
  }
}

/** Returns the wall-clock time of `instant` in `zone` as milliseconds of a UTC-based timeline. */
function wallMsOf(instant: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(zone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** Returns the offset of `zone` from UTC at `instant`, in minutes (positive east of Greenwich). */
export function offsetMinutesAt(instant: Date, zone: string): number {
  const ms = Math.floor(instant.getTime() / 1000) * 1000;
  return Math.round((wallMsOf(ms, zone) - ms) / MINUTE_MS);
}

/** A local calendar date and a time of day in minutes after midnight. */
export interface WallTime {
  /** YYYY-MM-DD. */
  date: string;
  minutes: number;
}

/** Returns the local date and minute of `instant` in `zone`. */
export function wallTimeOf(instant: Date, zone: string): WallTime {
  const wall = wallMsOf(instant.getTime(), zone);
  const date = new Date(wall).toISOString().slice(0, 10);
  return { date, minutes: Math.floor((wall - Date.parse(`${date}T00:00:00Z`)) / MINUTE_MS) };
}

/**
 * Returns every instant at which the wall clock of `zone` shows `minutes` after midnight of `date`,
 * earliest first: none in a spring-forward gap, two in a fall-back repeated hour, one otherwise.
 */
export function instantsOf(date: string, minutes: number, zone: string): Date[] {
  const wall = Date.parse(`${date}T00:00:00Z`) + minutes * MINUTE_MS;
  // Offsets a day before and after cover both sides of any transition on that day.
  const offsets = new Set([
    offsetMinutesAt(new Date(wall - DAY_MS), zone),
    offsetMinutesAt(new Date(wall), zone),
    offsetMinutesAt(new Date(wall + DAY_MS), zone),
  ]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = wall - offset * MINUTE_MS;
    if (wallMsOf(candidate, zone) === wall) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/**
 * Returns the instant of a wall-clock time, for edges of working hours. A repeated time gives its
 * first occurrence. A time inside a spring-forward gap is moved forward by the gap's length, as
 * Temporal's "compatible" disambiguation does, so 02:30 in a 02:00-03:00 gap becomes 03:30.
 */
export function edgeInstantOf(date: string, minutes: number, zone: string): Date {
  const [first] = instantsOf(date, minutes, zone);
  if (first) return first;
  const wall = Date.parse(`${date}T00:00:00Z`) + minutes * MINUTE_MS;
  const offsetBefore = offsetMinutesAt(new Date(wall - DAY_MS), zone);
  return new Date(wall - offsetBefore * MINUTE_MS);
}

/** Returns the ISO weekday of a local date: 1 for Monday to 7 for Sunday. */
export function weekdayOf(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

/** Returns the local date `days` days after `date`. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Returns the number of days from `from` to `to`; negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** Formats `instant` as ISO 8601 on the wall clock of `zone`, with its offset: 2026-03-30T09:00:00+02:00. */
export function localIso(instant: Date, zone: string): string {
  const offset = offsetMinutesAt(instant, zone);
  const wall = new Date(instant.getTime() + offset * MINUTE_MS).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mins = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${wall}${sign}${hours}:${mins}`;
}

/** Formats minutes after midnight as HH:MM. */
export function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Parses HH:MM (00:00 to 24:00) into minutes after midnight, or undefined when malformed. */
export function parseMinutes(value: string): number | undefined {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(value);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= 1440 ? minutes : undefined;
}
