import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { InputErrors } from '@hms/service-kit';

// Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is proven by use, not regex.
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

/** Returns the stored form of an email address (trimmed, lowercased), recording an error when invalid. */
export function normalizeEmail(errors: InputErrors, field: string, value: string): string | undefined {
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) {
    errors.add(field, 'must be an email address');
    return undefined;
  }
  return email;
}

/** Returns a phone number in E.164, recording an error unless it is a valid number in international form. */
export function normalizePhone(errors: InputErrors, field: string, value: string): string | undefined {
  const trimmed = value.trim();
  const phone = trimmed.startsWith('+') ? parsePhoneNumberFromString(trimmed) : undefined;
  if (!phone || !phone.isValid()) {
    errors.add(field, 'must be a valid phone number in E.164 form, such as +919812345678');
    return undefined;
  }
  return phone.number;
}

/** Trims an optional name part; an empty string counts as absent. */
export function cleanName(
  errors: InputErrors,
  field: string,
  value: string | null | undefined,
): string | null {
  const name = value?.trim() ?? '';
  if (name.length > 200) errors.add(field, 'must be at most 200 characters');
  return name === '' ? null : name;
}

/** Joins given and family names into the display name used when none was chosen. */
export function displayNameOf(givenName: string | null, familyName: string | null): string {
  return [givenName, familyName].filter(Boolean).join(' ');
}
