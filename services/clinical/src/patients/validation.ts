import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { InputErrors, isLocalDate } from '@hms/service-kit';
import type { AddressValue } from '../entities/patient.js';
import { ageInYears, ageReferenceDate, latestDateOnEarth } from './age.js';
import type {
  AddressInput,
  GuardianInput,
  GuardianValue,
  HumanNameInput,
  IdentifierValue,
  NameValue,
  PatientDraft,
  PatientIdentifierInput,
  RegisterPatientInput,
  UpdatePatientInput,
} from './inputs.js';

/** Limits on what a client may store; generous for real data, small enough to keep rows and indexes lean. */
export const limits = {
  namePart: 100,
  givenNames: 10,
  nameAffixes: 5,
  genderIdentity: 100,
  email: 254,
  phoneInput: 32,
  addressLine: 200,
  addressLines: 5,
  addressPart: 100,
  postalCode: 20,
  identifiers: 20,
  identifierSystem: 255,
  identifierValue: 100,
  guardians: 10,
} as const;

/** Earliest accepted birth date; an earlier one is taken for a typing error. */
export const EARLIEST_BIRTH_DATE = '1880-01-01';

/** Clock difference tolerated between a client and this service before an instant counts as future. */
const CLOCK_TOLERANCE_MS = 5 * 60_000;

/**
 * The widest time zone offset. A birth at 00:30 on the 1st in UTC+14 is 10:30 on the previous day in UTC,
 * so a death instant is only "before birth" when it precedes the birth date's midnight by more than this.
 */
const MAX_ZONE_OFFSET_MS = 14 * 3_600_000;

const PHONE_MESSAGE = 'must be a phone number in E.164 form, "+<country code><number>", such as +15551234567';
const EMAIL_PATTERN =
  /^[^\s@"(),:;<>[\]\\]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const URI_PATTERN = /^[a-z][a-z0-9+.-]*:\S+$/i;
const TOKEN_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const CONTROL_CHARACTERS = /\p{Cc}/u;

export interface ValidationRules {
  /** The tenant's age of majority; younger patients need a guardian. */
  ageOfMajority: number;
  /** The tenant's IANA time zone, in which a birthday begins. */
  timeZone: string;
  now: Date;
}

/** Validates a registration and returns what to store; throws BAD_USER_INPUT listing every invalid field. */
export function validateRegistration(input: RegisterPatientInput, rules: ValidationRules): PatientDraft {
  return validateDraft(input, () => true, rules);
}

/**
 * Validates an update against the stored patient and returns the patient as it will be stored. Rules
 * that tie fields together (death after birth, a minor's guardian) are checked on the result, and their
 * error names a field the client sent.
 */
export function validateUpdate(
  input: UpdatePatientInput,
  current: PatientDraft,
  rules: ValidationRules,
): PatientDraft {
  const sent = (key: keyof UpdatePatientInput) => input[key] !== undefined;
  const merged: Record<string, unknown> = { ...draftAsInput(current) };
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) merged[key] = value;
  }
  return validateDraft(merged as unknown as RegisterPatientInput, sent, rules);
}

function validateDraft(
  input: RegisterPatientInput,
  sent: (key: keyof RegisterPatientInput) => boolean,
  rules: ValidationRules,
): PatientDraft {
  const errors = new InputErrors();

  const name = checkName(input.name, 'input.name', errors);
  if (!input.sex) errors.add('input.sex', 'is required');
  const genderIdentity = checkOptionalText(
    input.genderIdentity,
    'input.genderIdentity',
    limits.genderIdentity,
    errors,
  );
  const birthDate = checkBirthDate(input.birthDate, rules.now, errors);
  const deceasedAt = checkDeceasedAt(input.deceasedAt ?? null, rules.now, errors);
  const phone = checkPhone(input.phone, 'input.phone', errors);
  const email = checkEmail(input.email, 'input.email', errors);
  const address = checkAddress(input.address ?? null, errors);
  const identifiers = checkIdentifiers(input.identifiers ?? [], errors);
  const guardians = checkGuardians(input.guardians ?? [], errors);

  // Death after birth: the error goes to whichever of the two fields the client sent.
  const diedBeforeBirth =
    birthDate !== undefined &&
    deceasedAt !== null &&
    deceasedAt.getTime() < Date.parse(`${birthDate}T00:00:00Z`) - MAX_ZONE_OFFSET_MS;
  if (diedBeforeBirth) {
    const field = sent('deceasedAt') ? 'input.deceasedAt' : 'input.birthDate';
    errors.add(field, 'the date of death must not be before the birth date');
  }

  // A living minor is registered only with someone who consents and is contacted for them. The record
  // of a child who has died (imported history, mostly) has nobody to act for, so it needs no guardian.
  // Without a valid pair of dates the age is unknown, and the date error above is the one to fix first.
  if (birthDate && !deceasedAt && !diedBeforeBirth && (input.guardians ?? []).length === 0) {
    const age = ageInYears(birthDate, ageReferenceDate(deceasedAt, rules.now, rules.timeZone));
    if (age < rules.ageOfMajority) {
      const field = sent('guardians') || !sent('birthDate') ? 'input.guardians' : 'input.birthDate';
      errors.add(
        field,
        `a patient under the age of majority (${rules.ageOfMajority}) needs at least one guardian`,
      );
    }
  }

  errors.throwIfAny();
  return {
    name: name!,
    sex: input.sex,
    genderIdentity,
    birthDate: birthDate!,
    deceasedAt,
    phone,
    email,
    address,
    identifiers,
    guardians,
  };
}

/** Converts the stored patient to the shape of a registration, so an update can be merged over it. */
function draftAsInput(draft: PatientDraft): RegisterPatientInput {
  return { ...draft };
}

function checkName(
  input: HumanNameInput | null | undefined,
  path: string,
  errors: InputErrors,
): NameValue | undefined {
  if (!input) {
    errors.add(path, 'is required');
    return undefined;
  }
  const family = checkRequiredText(input.family, `${path}.family`, limits.namePart, errors);

  const given: string[] = [];
  if (!input.given || input.given.length === 0) {
    errors.add(`${path}.given`, 'must list at least one given name');
  } else if (input.given.length > limits.givenNames) {
    errors.add(`${path}.given`, `must list at most ${limits.givenNames} names`);
  } else {
    input.given.forEach((part, index) => {
      const value = checkRequiredText(part, `${path}.given[${index}]`, limits.namePart, errors);
      if (value) given.push(value);
    });
  }

  const affixes = (list: string[] | null | undefined, key: 'prefix' | 'suffix'): string[] => {
    if (!list) return [];
    if (list.length > limits.nameAffixes) {
      errors.add(`${path}.${key}`, `must list at most ${limits.nameAffixes} entries`);
      return [];
    }
    return list.flatMap(
      (part, index) => checkRequiredText(part, `${path}.${key}[${index}]`, limits.namePart, errors) ?? [],
    );
  };
  const prefix = affixes(input.prefix, 'prefix');
  const suffix = affixes(input.suffix, 'suffix');

  return family === undefined ? undefined : { given, family, prefix, suffix };
}

/** Trims `value` and checks it is present, not too long and free of control characters. */
function checkRequiredText(
  value: string | null | undefined,
  path: string,
  max: number,
  errors: InputErrors,
): string | undefined {
  const trimmed = (value ?? '').trim();
  if (!trimmed) {
    errors.add(path, 'must not be empty');
    return undefined;
  }
  return checkTextShape(trimmed, path, max, errors);
}

/** Trims `value`; blank means absent, as forms send empty strings for fields left empty. */
function checkOptionalText(
  value: string | null | undefined,
  path: string,
  max: number,
  errors: InputErrors,
): string | null {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return null;
  return checkTextShape(trimmed, path, max, errors) ?? null;
}

function checkTextShape(value: string, path: string, max: number, errors: InputErrors): string | undefined {
  if (value.length > max) {
    errors.add(path, `must be at most ${max} characters`);
    return undefined;
  }
  if (CONTROL_CHARACTERS.test(value)) {
    errors.add(path, 'must not contain control characters such as line breaks or tabs');
    return undefined;
  }
  return value;
}

function checkBirthDate(
  value: string | null | undefined,
  now: Date,
  errors: InputErrors,
): string | undefined {
  if (!value) {
    errors.add('input.birthDate', 'is required');
    return undefined;
  }
  if (!isLocalDate(value)) {
    errors.add('input.birthDate', 'must be a calendar date as YYYY-MM-DD');
    return undefined;
  }
  if (value < EARLIEST_BIRTH_DATE) {
    errors.add('input.birthDate', `must not be before ${EARLIEST_BIRTH_DATE}`);
    return undefined;
  }
  if (value > latestDateOnEarth(now)) {
    errors.add('input.birthDate', 'must not be in the future');
    return undefined;
  }
  return value;
}

function checkDeceasedAt(value: Date | null, now: Date, errors: InputErrors): Date | null {
  if (!value) return null;
  if (value.getTime() > now.getTime() + CLOCK_TOLERANCE_MS) {
    errors.add('input.deceasedAt', 'must not be in the future');
    return null;
  }
  return value;
}

/** Returns the number in E.164; input may contain spaces, dashes, dots and parentheses. */
function checkPhone(value: string | null | undefined, path: string, errors: InputErrors): string | null {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return null;
  if (trimmed.length > limits.phoneInput || !/^\+[\d\s().-]+$/.test(trimmed)) {
    errors.add(path, PHONE_MESSAGE);
    return null;
  }
  const parsed = parsePhoneNumberFromString(trimmed);
  if (!parsed || !parsed.isPossible()) {
    errors.add(path, PHONE_MESSAGE);
    return null;
  }
  return parsed.number;
}

function checkEmail(value: string | null | undefined, path: string, errors: InputErrors): string | null {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return null;
  if (trimmed.length > limits.email) {
    errors.add(path, `must be at most ${limits.email} characters`);
    return null;
  }
  if (!EMAIL_PATTERN.test(trimmed)) {
    errors.add(path, 'must be an email address such as name@example.org');
    return null;
  }
  return trimmed;
}

function checkAddress(input: AddressInput | null, errors: InputErrors): AddressValue | null {
  if (!input) return null;
  const lines = input.lines ?? [];
  if (lines.length > limits.addressLines)
    errors.add('input.address.lines', `must list at most ${limits.addressLines} lines`);
  const address: AddressValue = {
    lines: lines
      .slice(0, limits.addressLines)
      .flatMap(
        (line, index) =>
          checkOptionalText(line, `input.address.lines[${index}]`, limits.addressLine, errors) ?? [],
      ),
    city: checkOptionalText(input.city, 'input.address.city', limits.addressPart, errors),
    district: checkOptionalText(input.district, 'input.address.district', limits.addressPart, errors),
    state: checkOptionalText(input.state, 'input.address.state', limits.addressPart, errors),
    postalCode: checkOptionalText(input.postalCode, 'input.address.postalCode', limits.postalCode, errors),
    country: checkOptionalText(input.country, 'input.address.country', limits.addressPart, errors),
  };
  const empty =
    address.lines.length === 0 &&
    !address.city &&
    !address.district &&
    !address.state &&
    !address.postalCode &&
    !address.country;
  return empty ? null : address;
}

function checkIdentifiers(input: PatientIdentifierInput[], errors: InputErrors): IdentifierValue[] {
  if (input.length > limits.identifiers) {
    errors.add('input.identifiers', `must list at most ${limits.identifiers} identifiers`);
    return [];
  }
  const firstIndexOf = new Map<string, number>();
  const identifiers: IdentifierValue[] = [];
  input.forEach((identifier, index) => {
    const path = `input.identifiers[${index}]`;
    const system = checkIdentifierSystem(identifier.system, `${path}.system`, errors);
    const value = checkRequiredText(identifier.value, `${path}.value`, limits.identifierValue, errors);
    if (system === undefined || value === undefined) return;

    const key = JSON.stringify([system, value]);
    const first = firstIndexOf.get(key);
    if (first !== undefined) {
      errors.add(path, `repeats input.identifiers[${first}] (same system and value)`);
      return;
    }
    firstIndexOf.set(key, index);
    identifiers.push({ type: identifier.type, system, value });
  });
  return identifiers;
}

function checkIdentifierSystem(value: string, path: string, errors: InputErrors): string | undefined {
  const system = checkRequiredText(value, path, limits.identifierSystem, errors);
  if (system === undefined) return undefined;
  if (!URI_PATTERN.test(system) && !TOKEN_PATTERN.test(system)) {
    errors.add(
      path,
      'must be a URI (such as urn:oid:2.16.840.1.113883.4.1 or https://example.org/mrn) or a short token of letters, digits, ".", "_" and "-" (at most 64 characters)',
    );
    return undefined;
  }
  return system;
}

function checkGuardians(input: GuardianInput[], errors: InputErrors): GuardianValue[] {
  if (input.length > limits.guardians) {
    errors.add('input.guardians', `must list at most ${limits.guardians} guardians`);
    return [];
  }
  const guardians: GuardianValue[] = [];
  input.forEach((guardian, index) => {
    const path = `input.guardians[${index}]`;
    const name = checkName(guardian.name, `${path}.name`, errors);
    const phone = checkPhone(guardian.phone, `${path}.phone`, errors);
    const email = checkEmail(guardian.email, `${path}.email`, errors);
    if (name) guardians.push({ name, relationship: guardian.relationship, phone, email });
  });
  return guardians;
}
