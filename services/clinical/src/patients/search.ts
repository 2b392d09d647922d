import {
  decodeCursor,
  encodeCursor,
  HmsError,
  isUuid,
  pageSize,
  toConnection,
  type Connection,
  type EntityManager,
} from '@hms/service-kit';
import { Patient } from '../entities/patient.js';
import { digitsOf, foldText } from './normalize.js';
import { viewsOf } from './store.js';
import type { PatientView } from './view.js';

/** Maximum length of a search string; longer input is no name, phone number or MRN. */
export const MAX_SEARCH_LENGTH = 200;
const MAX_FRAGMENTS = 8;

/** The matching strategy for a search string, chosen from its shape. */
export type SearchPlan =
  /** No search: every patient. */
  | { kind: 'all' }
  /** An MRN, whole or its beginning: a range on the (tenant_id, mrn) index. */
  | { kind: 'mrn'; prefix: string }
  /** An international number typed with its "+": a range on the (tenant_id, phone_digits) index. */
  | { kind: 'phone'; prefix: string }
  /** Words or digits, each of which must occur in the patient's folded search text (trigram index). */
  | { kind: 'text'; fragments: string[] };

/**
 * Reads a search string. "MRN-0001" and "mrn 0001" are MRN prefixes; "+44 20 7946" is the start of an
 * international phone number; digits without "+" ("020 7946 0958") are one fragment, found inside the
 * stored phone digits or MRN; anything else is folded (case and accents dropped) and split into words,
 * all of which must match some part of the name.
 */
export function planSearch(search: string | null | undefined): SearchPlan {
  const trimmed = (search ?? '').trim();
  if (!trimmed) return { kind: 'all' };
  if (trimmed.length > MAX_SEARCH_LENGTH) {
    throw HmsError.badUserInput([
      { field: 'search', message: `must be at most ${MAX_SEARCH_LENGTH} characters` },
    ]);
  }
  // PostgreSQL rejects a NUL byte in text outright, and no other control character appears in a name,
  // phone number or MRN.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw HmsError.badUserInput([{ field: 'search', message: 'must not contain control characters' }]);
  }

  const mrn = /^mrn[-\s]?(\d+)$/i.exec(trimmed);
  if (mrn) return { kind: 'mrn', prefix: `MRN-${mrn[1]}` };

  const digits = digitsOf(trimmed);
  if (/^[\d\s().+-]+$/.test(trimmed) && digits.length >= 3) {
    return trimmed.startsWith('+')
      ? { kind: 'phone', prefix: digits }
      : { kind: 'text', fragments: [digits] };
  }

  const fragments = [...new Set(foldText(trimmed).split(' ').filter(Boolean))];
  if (fragments.length === 0) return { kind: 'all' };
  if (fragments.length > MAX_FRAGMENTS) {
    throw HmsError.badUserInput([{ field: 'search', message: `must have at most ${MAX_FRAGMENTS} words` }]);
  }
  return { kind: 'text', fragments };
}

export interface SearchArguments {
  search?: string | null;
  first?: number | null;
  after?: string | null;
}

/**
 * Reads one page of the tenant's patients matching `search`, ordered by folded family name, folded
 * given names and id. The cursor holds only the id of the page's last patient, because a cursor ends up
 * in URLs and logs and must not carry names. The sort key is read back from that patient, so a page
 * starts exactly after the previous one even while patients are being registered.
 */
export async function searchPatients(
  em: EntityManager,
  tenantId: string,
  args: SearchArguments,
  now: Date,
): Promise<Connection<PatientView>> {
  const size = pageSize(args.first);
  const after = await afterKey(em, tenantId, args.after);
  const where = whereClause(tenantId, planSearch(args.search));

  const counted = await em.execute<{ count: number }[]>(
    `select count(*)::int as count from clinical.patients where ${where.sql}`,
    where.params,
  );
  const count = counted[0]?.count ?? 0;
  if (size === 0) return toConnection([], 0, count, () => '', after !== undefined);

  // The row comparison is written out rather than left to the ORM so that PostgreSQL reads it as one
  // range on the sort index.
  const keyset = after ? ' and (family_key, given_key, id) > (?, ?, ?)' : '';
  const rows = await em.execute<Record<string, unknown>[]>(
    `select * from clinical.patients where ${where.sql}${keyset} order by family_key, given_key, id limit ?`,
    [...where.params, ...(after ?? []), size + 1],
  );
  const patients = rows.map((row) => em.map(Patient, row));
  const views = await viewsOf(em, patients, now);
  const nodes = patients.map((patient) => views.get(patient.id)!);

  return toConnection(nodes, size, count, (node) => encodeCursor([node.id]), after !== undefined);
}

/** Returns the sort key of the patient a cursor names; a cursor of another tenant or list is bad input. */
async function afterKey(
  em: EntityManager,
  tenantId: string,
  after: string | null | undefined,
): Promise<[string, string, string] | undefined> {
  const key = decodeCursor(after, 1);
  if (!key) return undefined;
  const [id] = key;
  const invalid = () =>
    HmsError.badUserInput([{ field: 'after', message: 'is not a cursor returned by this list' }]);
  if (typeof id !== 'string' || !isUuid(id)) throw invalid();

  const rows = await em.execute<{ family_key: string; given_key: string }[]>(
    'select family_key, given_key from clinical.patients where tenant_id = ? and id = ?',
    [tenantId, id],
  );
  const row = rows[0];
  if (!row) throw invalid();
  return [row.family_key, row.given_key, id];
}

/**
 * Writes the filter of a plan as SQL. The tenant condition repeats what row-level security enforces, so the
 * planner can use it as the leading column of every index. Prefixes become explicit ranges rather than
 * LIKE: PostgreSQL does not push operators that are not LEAKPROOF (LIKE is not) below a row-level
 * security policy into an index condition, while plain comparisons are leakproof.
 */
function whereClause(tenantId: string, plan: SearchPlan): { sql: string; params: unknown[] } {
  const conditions = ['tenant_id = ?'];
  const params: unknown[] = [tenantId];
  switch (plan.kind) {
    case 'all':
      break;
    case 'mrn':
      conditions.push('mrn >= ? and mrn < ?');
      params.push(plan.prefix, prefixUpperBound(plan.prefix));
      break;
    case 'phone':
      conditions.push('phone_digits >= ? and phone_digits < ?');
      params.push(plan.prefix, prefixUpperBound(plan.prefix));
      break;
    case 'text':
      // The trigram index serves this LIKE under row-level security only because provisioning marks
      // textlike LEAKPROOF (see leakproofFunctions in migrations/index.ts). A database provisioned
      // without it still returns correct results, but reads every row of the tenant.
      for (const fragment of plan.fragments) {
        conditions.push(`search_text like ? escape '!'`);
        params.push(`%${fragment.replace(/[!%_]/g, '!$&')}%`);
      }
      break;
  }
  return { sql: conditions.join(' and '), params };
}

/** Returns the smallest string above every string starting with `prefix`, in byte order ("MRN-01" gives "MRN-02"). */
function prefixUpperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
