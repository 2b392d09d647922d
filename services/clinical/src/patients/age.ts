/**
 * Age arithmetic on calendar dates. Dates are YYYY-MM-DD strings, compared as text (which orders them
 * correctly). A person's age changes at midnight of the tenant's time zone, so "today" is the calendar
 * date in that zone (localDateOf), never the UTC date.
 *
 * An anniversary that does not exist falls on the first day of the next month. Someone born on
 * 29 February turns a year older on 1 March in common years, and someone born on 31 January is one
 * month old on 1 March. The years of ageBetween therefore always equal ageInYears, so a patient's age
 * and isMinor never disagree.
 */

/** A structured age, as the Age type of the schema serves it. */
export interface AgeView {
  years: number;
  months: number;
  days: number;
  totalMonths: number;
  totalDays: number;
  display: string;
}

const DAY_MS = 86_400_000;

/** Returns the calendar date of `instant` in UTC, as YYYY-MM-DD. */
export function utcDateOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Returns the calendar date of `instant` in the IANA time zone `timeZone`, as YYYY-MM-DD. Throws a
 * RangeError naming the zone when the runtime does not know it.
 */
export function localDateOf(instant: Date, timeZone: string): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
    } catch (error) {
      throw new RangeError(`The tenant time zone ${JSON.stringify(timeZone)} is not an IANA time zone.`, {
        cause: error,
      });
    }
    dateFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * Returns the latest calendar date anywhere on Earth at `instant` (UTC+14), so that a birth recorded
 * as today in the easternmost time zone is not rejected as a future date.
 */
export function latestDateOnEarth(instant: Date): string {
  return utcDateOf(new Date(instant.getTime() + 14 * 3_600_000));
}

/** Counts whole years from `birthDate` to `onDate`. Someone born on 29 February comes of age on 1 March. */
export function ageInYears(birthDate: string, onDate: string): number {
  const [birthYear, birthRest] = [Number(birthDate.slice(0, 4)), birthDate.slice(5)];
  const [year, rest] = [Number(onDate.slice(0, 4)), onDate.slice(5)];
  return year - birthYear - (rest < birthRest ? 1 : 0);
}

/**
 * Returns the date age is measured on: the day of death for a deceased patient, today otherwise, both
 * as calendar dates in the tenant's time zone.
 */
export function ageReferenceDate(deceasedAt: Date | null, now: Date, timeZone: string): string {
  return localDateOf(deceasedAt && deceasedAt < now ? deceasedAt : now, timeZone);
}

/** Tells whether a patient is younger than the age of majority on the reference date. */
export function isMinor(
  birthDate: string,
  ageOfMajority: number,
  deceasedAt: Date | null,
  now: Date,
  timeZone: string,
): boolean {
  return ageInYears(birthDate, ageReferenceDate(deceasedAt, now, timeZone)) < ageOfMajority;
}

/**
 * Computes the age from `birthDate` to `onDate` in whole years, months and days. A birth date after
 * `onDate` (possible for a birth recorded in a zone ahead of the tenant's) counts as 0 days.
 */
export function ageBetween(birthDate: string, onDate: string): AgeView {
  if (onDate <= birthDate) return ageView(0, 0);

  const birth = partsOf(birthDate);
  const on = partsOf(onDate);
  let totalMonths = (on.year - birth.year) * 12 + (on.month - birth.month);
  // The anniversary of this month has not come yet when the day is earlier, or when the month is too
  // short to contain the birth day (its anniversary then falls on the 1st of the next month).
  if (birth.day > daysInMonth(on.year, on.month) || on.day < birth.day) totalMonths -= 1;

  const anniversary = monthAnniversary(birth, totalMonths);
  const days = Math.round((Date.parse(`${onDate}T00:00:00Z`) - anniversary) / DAY_MS);
  const totalDays = Math.round(
    (Date.parse(`${onDate}T00:00:00Z`) - Date.parse(`${birthDate}T00:00:00Z`)) / DAY_MS,
  );
  return ageView(totalMonths, days, totalDays);
}

/** Returns the structured age of a patient on the reference date in the tenant's time zone. */
export function patientAge(birthDate: string, deceasedAt: Date | null, now: Date, timeZone: string): AgeView {
  return ageBetween(birthDate, ageReferenceDate(deceasedAt, now, timeZone));
}

function ageView(totalMonths: number, days: number, totalDays = days): AgeView {
  const years = Math.floor(totalMonths / 12);
  const months = totalMonths % 12;
  return {
    years,
    months,
    days,
    totalMonths,
    totalDays,
    display: displayOf(years, months, totalMonths, days),
  };
}

/** Formats an age the way pediatric charts show it; see the Age type of the schema. */
function displayOf(years: number, months: number, totalMonths: number, days: number): string {
  if (totalMonths === 0) return plural(days, 'day');
  if (years === 0) return plural(months, 'month');
  if (years < 5 && months > 0) return `${plural(years, 'year')} ${plural(months, 'month')}`;
  return plural(years, 'year');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

interface DateParts {
  year: number;
  month: number;
  day: number;
}

function partsOf(date: string): DateParts {
  return { year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)), day: Number(date.slice(8, 10)) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Returns the UTC midnight (in milliseconds) of the date `months` months after birth: the same day of
 * the month, or the 1st of the following month when that month is too short.
 */
function monthAnniversary(birth: DateParts, months: number): number {
  const monthIndex = birth.month - 1 + months;
  const year = birth.year + Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  if (birth.day <= daysInMonth(year, month)) return Date.UTC(year, month - 1, birth.day);
  return Date.UTC(year, month, 1);
}
