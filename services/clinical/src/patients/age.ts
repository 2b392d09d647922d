/**
 * Age arithmetic on calendar dates. Dates are YYYY-MM-DD strings, compared as text (which orders them
 * correctly) so that no time zone can shift a birth date by a day.
 */

/** Returns the calendar date of `instant` in UTC, as YYYY-MM-DD. */
export function utcDateOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
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
 * Returns the date age is measured on: the day of death for a deceased patient, today otherwise.
 * TODO: use the tenant's time zone, which arrives with identity's tenant events; UTC can put the
 * birthday a day early or late for tenants far from Greenwich.
 */
export function ageReferenceDate(deceasedAt: Date | null, now: Date): string {
  return utcDateOf(deceasedAt && deceasedAt < now ? deceasedAt : now);
}

/** Tells whether a patient is younger than the age of majority on the reference date. */
export function isMinor(
  birthDate: string,
  ageOfMajority: number,
  deceasedAt: Date | null,
  now: Date,
): boolean {
  return ageInYears(birthDate, ageReferenceDate(deceasedAt, now)) < ageOfMajority;
}
