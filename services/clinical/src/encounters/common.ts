import DataLoader from 'dataloader';
import {
  HmsError,
  inTenantTransaction,
  InputErrors,
  isUuid,
  memoize,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { SIGNED_CONTENT_SQLSTATE } from '../migrations/Migration20261210000000CreateEncounters.js';

/** Largest number of keys one batched query reads, to keep the `in` list and the result bounded. */
const MAX_BATCH = 500;

/** Maximum length of free text in one field (a chief complaint, a note section), in characters. */
export const MAX_TEXT = 20_000;
/** Maximum length of short text (codes, names, reasons, source ids), in characters. */
export const MAX_SHORT_TEXT = 500;

/**
 * Returns the request's loader called `name`: every key requested while one request resolves is read
 * in one batch, in one tenant transaction. It lives in the request's memo, so batches never mix
 * requests or tenants.
 */
export function requestLoader<V>(
  context: SubgraphContext,
  name: string,
  orm: MikroORM,
  tenantId: string,
  fetch: (em: EntityManager, keys: string[]) => Promise<Map<string, V>>,
  missing: V,
): DataLoader<string, V> {
  return memoize(
    context,
    `clinical:${name}`,
    () =>
      new DataLoader<string, V>(
        async (keys) => {
          const found = await inTenantTransaction(orm, tenantId, (em) => fetch(em, [...new Set(keys)]));
          return keys.map((key) => found.get(key) ?? missing);
        },
        { maxBatchSize: MAX_BATCH },
      ),
  );
}

/** Groups rows by a key, keeping their order. */
export function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/** Rejects an id that is not a UUID before it reaches PostgreSQL, where it would fail as a type error. */
export function assertId(id: string, field: string, entity: string): void {
  if (!isUuid(id)) throw HmsError.badUserInput([{ field, message: `must be a ${entity} id (a UUID)` }]);
}

/** Adds an error when an optional id is present and not a UUID. */
export function checkOptionalId(
  errors: InputErrors,
  id: string | null | undefined,
  field: string,
  entity: string,
): void {
  if (id !== null && id !== undefined && !isUuid(id)) errors.add(field, `must be a ${entity} id (a UUID)`);
}

/**
 * Trims an optional text, and blank becomes null. Adds an error when it is longer than `max` or contains
 * control characters other than tab and line breaks.
 */
export function optionalText(
  errors: InputErrors,
  value: string | null | undefined,
  field: string,
  max = MAX_TEXT,
): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (trimmed.length > max) errors.add(field, `must be at most ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(trimmed)) {
    errors.add(field, 'must not contain control characters');
  }
  return trimmed;
}

/** Like optionalText, but adds an error when the text is missing or blank. */
export function requiredText(
  errors: InputErrors,
  value: string | null | undefined,
  field: string,
  max = MAX_TEXT,
): string {
  const text = optionalText(errors, value, field, max);
  if (text === null) errors.add(field, 'must not be empty');
  return text ?? '';
}

/**
 * Checks an external source id (such as synthea:Encounter/<uuid>): printable, no spaces, at most
 * MAX_SHORT_TEXT characters. Returns it, or null when absent.
 */
export function sourceIdOf(
  errors: InputErrors,
  value: string | null | undefined,
  field: string,
): string | null {
  if (value === null || value === undefined) return null;
  if (!/^[\x21-\x7e]+$/.test(value) || value.length > MAX_SHORT_TEXT) {
    errors.add(field, `must be 1 to ${MAX_SHORT_TEXT} printable ASCII characters without spaces`);
  }
  return value;
}

/** Adds an error when an instant lies in the future; `now` is the request's clock. */
export function checkNotFuture(
  errors: InputErrors,
  value: Date | null | undefined,
  field: string,
  now: Date,
): void {
  if (value && value.getTime() > now.getTime()) errors.add(field, 'must not be in the future');
}

/** Throws CONFLICT for a record of another import with the same source id, naming the existing record. */
export function sourceIdConflict(entity: string, sourceId: string, existingId: string): HmsError {
  return HmsError.conflict(`A ${entity} with the source id ${sourceId} already exists (${existingId}).`, {
    existingId,
    field: 'sourceId',
  });
}

/** The exclusion constraint that keeps one patient per bed at any instant. */
export const ONE_PATIENT_PER_BED = 'bed_assignments_one_patient_per_bed';
/** The exclusion constraint that keeps a patient in one bed at any instant. */
export const ONE_BED_PER_PATIENT = 'bed_assignments_one_bed_per_patient';

/**
 * Flushes, turning violations of the rules the database enforces into CONFLICT: an overlapping bed
 * assignment, a duplicate source id or code, a second current stay of a patient and a change of
 * signed content. Other errors pass through.
 */
export async function flushOrConflict(em: EntityManager): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    throw conflictOf(error) ?? error;
  }
}

/** Runs a statement, mapping database rule violations like flushOrConflict. */
export async function executeOrConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw conflictOf(error) ?? error;
  }
}

function conflictOf(error: unknown): HmsError | undefined {
  const { code, constraint } = (error ?? {}) as { code?: string; constraint?: string };
  if (code === '23P01' || code === '40P01') return stayConflictOf(code, constraint);
  if (code === '23505') return uniqueConflictOf(constraint);
  if (code === SIGNED_CONTENT_SQLSTATE) {
    return HmsError.conflict('Signed content cannot be changed. Amend it instead.', { reason: 'SIGNED' });
  }
  return undefined;
}

/** Maps a violated exclusion constraint of bed assignments, or a deadlock, to CONFLICT. */
function stayConflictOf(code: string, constraint: string | undefined): HmsError | undefined {
  if (code === '23P01' && constraint === ONE_PATIENT_PER_BED) {
    return HmsError.conflict(
      'The bed is occupied during that time by another stay. Choose another bed or read the ward census again.',
      { reason: 'BED_OCCUPIED' },
    );
  }
  if (code === '23P01' && constraint === ONE_BED_PER_PATIENT) {
    return HmsError.conflict(
      'The patient is in another bed during that time. Check the stays of the patient and the times given.',
      { reason: 'PATIENT_IN_ANOTHER_BED' },
    );
  }

  // Two writes that add overlapping stays for one patient in different beds can each wait for the
  // other's row in the exclusion check. PostgreSQL then aborts one of them, which may simply retry.
  if (code === '40P01') {
    return HmsError.conflict('A concurrent write changed the same beds or stays. Retry the request.', {
      reason: 'CONCURRENT_WRITE',
    });
  }
  return undefined;
}

/** Maps a violated unique key (source id, code, current stay, primary diagnosis) to CONFLICT. */
function uniqueConflictOf(constraint: string | undefined): HmsError | undefined {
  if (constraint?.endsWith('_source_id_key')) {
    return HmsError.conflict(
      'A record with this sourceId was created at the same moment. Read it and retry.',
      {
        field: 'sourceId',
      },
    );
  }
  if (constraint === 'admissions_tenant_id_patient_id_current_key') {
    return HmsError.conflict(
      'The patient is already admitted. Transfer or discharge the current stay first.',
      {
        reason: 'ALREADY_ADMITTED',
      },
    );
  }
  if (constraint?.endsWith('_code_key')) {
    return HmsError.conflict('The code is already taken in this tenant. Choose another code.', {
      field: 'code',
    });
  }
  if (constraint === 'diagnoses_tenant_id_encounter_id_primary_key') {
    return HmsError.conflict(
      'Another primary diagnosis was recorded at the same moment. Read the encounter and retry.',
    );
  }
  return undefined;
}
