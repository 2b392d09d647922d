import { HmsError, InputErrors, isUuid } from '@hms/service-kit';
import { foldText } from '../patients/normalize.js';
import { codeFormatError, isIcd10System } from './codes.js';

/**
 * Input checks shared by vital signs, allergies, problems and prescriptions. Each check adds its
 * error to `errors`, naming the field by its input path, so one response lists every invalid field.
 */

/** Clock difference tolerated between a client and this service before an instant counts as future. */
export const CLOCK_TOLERANCE_MS = 5 * 60_000;

/** Earliest accepted clinical instant; an earlier one is taken for a typing error. */
export const EARLIEST_INSTANT = new Date('1880-01-01T00:00:00Z');

export const MAX_SOURCE_ID = 255;
export const MAX_DISPLAY = 500;
export const MAX_CODE = 64;
export const MAX_NOTE = 4000;
export const MAX_REASON = 1000;

const CONTROL_CHARACTERS = /[\p{Cc}]/u;
const CONTROL_CHARACTERS_BUT_LINES = /[^\P{Cc}\n\r\t]/u;

/** Throws BAD_USER_INPUT when `id` is not a UUID, before it reaches PostgreSQL as a type error. */
export function assertUuid(id: string, field: string, entityName: string): void {
  if (!isUuid(id)) throw HmsError.badUserInput([{ field, message: `must be ${entityName} id (a UUID)` }]);
}

/** Checks an optional id argument; returns it, or null when left out. */
export function checkOptionalUuid(
  value: string | null | undefined,
  field: string,
  entityName: string,
  errors: InputErrors,
): string | null {
  if (value === null || value === undefined) return null;
  if (!isUuid(value)) {
    errors.add(field, `must be ${entityName} id (a UUID)`);
    return null;
  }
  return value;
}

/** Checks an instant that must not be in the future (beyond the clock tolerance) nor before 1880. */
export function checkPastInstant(
  value: Date | null | undefined,
  field: string,
  now: Date,
  errors: InputErrors,
): Date | null {
  if (value === null || value === undefined) return null;
  if (value.getTime() > now.getTime() + CLOCK_TOLERANCE_MS) {
    errors.add(field, `must not be in the future (now is ${now.toISOString()})`);
    return null;
  }
  if (value < EARLIEST_INSTANT) {
    errors.add(field, `must not be before ${EARLIEST_INSTANT.toISOString()}`);
    return null;
  }
  return value;
}

/**
 * Checks an optional importer reference: trimmed, at most 255 characters, no control characters.
 * Returns null when left out or blank.
 */
export function checkSourceId(value: string | null | undefined, errors: InputErrors): string | null {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return null;
  if (trimmed.length > MAX_SOURCE_ID || CONTROL_CHARACTERS.test(trimmed)) {
    errors.add('input.sourceId', `must be at most ${MAX_SOURCE_ID} characters without control characters`);
    return null;
  }
  return trimmed;
}

/**
 * Checks optional free text (a note, instructions, a reason): trimmed, at most `max` characters, line
 * breaks and tabs allowed but no other control characters. Returns null when left out or blank.
 */
export function checkText(
  value: string | null | undefined,
  field: string,
  max: number,
  errors: InputErrors,
): string | null {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return null;
  if (trimmed.length > max || CONTROL_CHARACTERS_BUT_LINES.test(trimmed)) {
    errors.add(field, `must be at most ${max} characters without control characters`);
    return null;
  }
  return trimmed;
}

/** Checks required free text; a blank value is an error. */
export function checkRequiredText(
  value: string | null | undefined,
  field: string,
  max: number,
  errors: InputErrors,
): string | null {
  if (!(value ?? '').trim()) {
    errors.add(field, 'must not be blank');
    return null;
  }
  return checkText(value, field, max, errors);
}

/** A coded concept or free text, as the CodedConceptInput type receives it. */
export interface CodedConceptInput {
  system?: string | null;
  code?: string | null;
  display: string;
}

/** A validated concept; system and code are both null for free text. */
export interface ConceptValue<System extends string = string> {
  system: System | null;
  code: string | null;
  display: string;
}

/**
 * Checks a coded concept: system and code together (the system one of `systems`) or neither, and a
 * display of at most 500 characters. The code must have its system's format (see codeFormatError),
 * and ICD-10 codes are returned in upper case.
 */
export function checkConcept<System extends string>(
  input: CodedConceptInput,
  field: string,
  systems: readonly System[],
  errors: InputErrors,
): ConceptValue<System> | null {
  const display = checkRequiredText(input.display, `${field}.display`, MAX_DISPLAY, errors);
  const code = (input.code ?? '').trim() || null;
  const system = input.system ?? null;
  let valid = display !== null;

  if (system !== null && !systems.includes(system as System)) {
    errors.add(`${field}.system`, `must be one of ${systems.join(', ')}, or left out for free text`);
    valid = false;
  }
  if ((system === null) !== (code === null)) {
    errors.add(
      system === null ? `${field}.system` : `${field}.code`,
      'system and code must be given together, or both left out for free text',
    );
    valid = false;
  }
  if (code !== null && (code.length > MAX_CODE || !/^[\w.-]+$/.test(code))) {
    errors.add(`${field}.code`, `must be at most ${MAX_CODE} letters, digits, dots, dashes or underscores`);
    valid = false;
  }
  const storedCode = code !== null && system !== null && isIcd10System(system) ? code.toUpperCase() : code;
  if (valid && system !== null && storedCode !== null) {
    const formatError = codeFormatError(system, storedCode);
    if (formatError) {
      errors.add(`${field}.code`, formatError);
      valid = false;
    }
  }
  return valid ? { system: system as System | null, code: storedCode, display: display! } : null;
}

/**
 * Folds a substance or medication name for matching allergies against prescriptions: the patient
 * search folding (case, accents, apostrophes) plus punctuation to spaces, so "Penicillin-G" and
 * "penicillin g" match.
 */
export function nameKeyOf(name: string): string {
  return foldText(name)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
