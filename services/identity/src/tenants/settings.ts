import type { InputErrors } from '@hms/service-kit';
import type { Tenant } from '../entities/tenant.js';

/** Settings of a new tenant. The tenant administrator changes them with updateTenantSettings. */
export const DEFAULT_TENANT_SETTINGS = {
  readAuditEnabled: true,
  ageOfMajority: 18,
  passwordMinLength: 12,
  passwordHistoryCount: 5,
  passwordMaxAgeDays: 0,
  lockoutThreshold: 5,
  lockoutMinutes: 15,
  inactiveUserDisableDays: 90,
  patientSelfRegistration: false,
} as const;

/** Allowed range of each numeric setting; the database checks the same ranges. */
export const SETTING_RANGES = {
  ageOfMajority: [1, 30],
  passwordMinLength: [8, 128],
  passwordHistoryCount: [0, 24],
  passwordMaxAgeDays: [0, 3650],
  lockoutThreshold: [1, 100],
  lockoutMinutes: [1, 1440],
  inactiveUserDisableDays: [0, 3650],
} as const satisfies Record<string, readonly [number, number]>;

export interface PasswordPolicy {
  minLength: number;
  historyCount: number;
  maxAgeDays: number;
  lockoutThreshold: number;
  lockoutMinutes: number;
}

export function passwordPolicyOf(tenant: Tenant): PasswordPolicy {
  return {
    minLength: tenant.passwordMinLength,
    historyCount: tenant.passwordHistoryCount,
    maxAgeDays: tenant.passwordMaxAgeDays,
    lockoutThreshold: tenant.lockoutThreshold,
    lockoutMinutes: tenant.lockoutMinutes,
  };
}

const SLUG = /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/;

/** Checks a tenant slug: 3 to 40 lowercase letters, digits and hyphens, not starting or ending with one. */
export function checkSlug(errors: InputErrors, field: string, slug: string): void {
  if (!SLUG.test(slug)) {
    errors.add(
      field,
      'must be 3 to 40 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
    );
  }
}

/**
 * Tells whether `value` is an IANA time zone name. Offsets such as "+05:30" are refused even where Intl
 * accepts them, because appointment times must follow daylight saving. The name is kept as given:
 * Intl would turn "Asia/Kolkata" into the older alias "Asia/Calcutta".
 */
export function isTimeZoneName(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

let currencies: Set<string> | undefined;

/** Tells whether `value` is an ISO 4217 currency code that this runtime's Intl supports. */
export function isCurrencyCode(value: string): boolean {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return /^[A-Z]{3}$/.test(value) && currencies.has(value);
}

/** Checks an optional integer setting against its range. */
export function checkRange(
  errors: InputErrors,
  field: string,
  value: number | null | undefined,
  [min, max]: readonly [number, number],
): void {
  if (value === undefined || value === null) return;
  if (!Number.isInteger(value) || value < min || value > max)
    errors.add(field, `must be an integer from ${min} to ${max}`);
}
