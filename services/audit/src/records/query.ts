import {
  decodeCursor,
  encodeCursor,
  HmsError,
  InputErrors,
  isUuid,
  toConnection,
  type Connection,
  type EntityManager,
} from '@hms/service-kit';
import { AUDIT_OPERATIONS, MAX_NAME_LENGTH, type AuditOperation } from './input.js';
import { dateOfMicros, isoOfMicros, STORED_COLUMNS, storedRecordOf, type StoredRow } from './stored.js';

/** An audit record as the graph serves it. */
export interface AuditRecordView {
  id: string;
  sequence: string;
  occurredAt: Date;
  receivedAt: Date;
  actor: {
    kind: string;
    id: string | null;
    sessionId: string | null;
    roles: string[];
    ip: string | null;
    userAgent: string | null;
  };
  action: string;
  operation: string;
  entityType: string | null;
  entityId: string | null;
  patientId: string | null;
  changedFields: string[];
  outcome: string;
  reason: string | null;
  traceId: string | null;
  requestId: string | null;
  producer: string;
  /** occurred_at in whole microseconds, the first half of the list's sort key. */
  occurredAtMicros: bigint;
}

export interface AuditRecordFilter {
  patientId?: string | null;
  actorId?: string | null;
  action?: string | null;
  operation?: AuditOperation | null;
  entityType?: string | null;
  entityId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** The position after which a page starts: occurred_at in microseconds and id, newest first. */
export type AuditCursor = [bigint, string];

/** Where-clause SQL with its parameters; every condition names a column of `audit.audit_records as r`. */
interface Condition {
  sql: string;
  params: unknown[];
}

/** Validates a filter and writes it as SQL conditions, the tenant first so it leads every index. */
export function filterConditions(tenantId: string, filter: AuditRecordFilter | null | undefined): Condition {
  const errors = new InputErrors();
  const conditions = ['r.tenant_id = ?'];
  const params: unknown[] = [tenantId];
  const equal = (column: string, value: string | null | undefined, field: string) => {
    if (value === null || value === undefined) return;
    if (value.length > MAX_NAME_LENGTH) {
      errors.add(`filter.${field}`, `must be at most ${MAX_NAME_LENGTH} characters`);
      return;
    }
    conditions.push(`${column} = ?`);
    params.push(value);
  };

  if (filter?.patientId !== null && filter?.patientId !== undefined && !isUuid(filter.patientId)) {
    errors.add('filter.patientId', 'must be a patient id (a UUID)');
  } else {
    equal('r.patient_id', filter?.patientId?.toLowerCase(), 'patientId');
  }
  equal('r.actor_id', filter?.actorId, 'actorId');
  equal('r.action', filter?.action, 'action');
  if (filter?.operation && !(AUDIT_OPERATIONS as readonly string[]).includes(filter.operation)) {
    errors.add('filter.operation', 'is not a known operation');
  }
  equal('r.operation', filter?.operation, 'operation');
  equal('r.entity_type', filter?.entityType, 'entityType');
  equal('r.entity_id', filter?.entityId, 'entityId');
  if (filter?.from) {
    conditions.push('r.occurred_at >= ?::timestamptz');
    params.push(filter.from.toISOString());
  }
  if (filter?.to) {
    conditions.push('r.occurred_at < ?::timestamptz');
    params.push(filter.to.toISOString());
  }
  if (filter?.from && filter.to && filter.from.getTime() > filter.to.getTime()) {
    errors.add('filter.to', 'must not be before filter.from');
  }
  errors.throwIfAny();
  return { sql: conditions.join(' and '), params };
}

/** Reads the `after` argument of an audit record connection. */
export function parseAuditCursor(after: string | null | undefined): AuditCursor | undefined {
  const key = decodeCursor(after, 2);
  if (!key) return undefined;
  const [micros, id] = key;
  if (typeof micros !== 'string' || !/^-?\d{1,19}$/.test(micros) || typeof id !== 'string' || !isUuid(id)) {
    throw HmsError.badUserInput([{ field: 'after', message: 'is not a cursor returned by this list' }]);
  }
  return [BigInt(micros), id];
}

export function cursorOf(view: AuditRecordView): string {
  return encodeCursor([view.occurredAtMicros.toString(), view.id]);
}

/**
 * Condition that starts a page after `cursor`. The row comparison is written out so that PostgreSQL
 * reads it as one range on the (…, occurred_at desc, id desc) indexes.
 */
export function keysetCondition(cursor: AuditCursor | undefined): Condition {
  if (!cursor) return { sql: '', params: [] };
  return {
    sql: ' and (r.occurred_at, r.id) < (?::timestamptz, ?::uuid)',
    params: [isoOfMicros(cursor[0]), cursor[1]],
  };
}

/** Reads up to `limit` records matching `where`, newest first. */
export async function selectRecords(
  em: EntityManager,
  where: Condition,
  cursor: AuditCursor | undefined,
  limit: number,
): Promise<AuditRecordView[]> {
  const keyset = keysetCondition(cursor);
  const rows = await em.execute<StoredRow[]>(
    `select ${STORED_COLUMNS} from audit.audit_records as r
     where ${where.sql}${keyset.sql}
     order by r.occurred_at desc, r.id desc limit ?`,
    [...where.params, ...keyset.params, limit],
  );
  return rows.map(viewOf);
}

/** Counts the records matching `where`. */
export async function countRecords(em: EntityManager, where: Condition): Promise<number> {
  const rows = await em.execute<{ count: number }[]>(
    `select count(*)::int as count from audit.audit_records as r where ${where.sql}`,
    where.params,
  );
  return rows[0]?.count ?? 0;
}

/** Builds a connection page from rows fetched with one extra row, whose presence means another page follows. */
export function recordConnection(
  rows: AuditRecordView[],
  size: number,
  hasPreviousPage: boolean,
  totalCount: () => Promise<number>,
): Omit<Connection<AuditRecordView>, 'totalCount'> & { totalCount: () => Promise<number> } {
  // totalCount is a function so that GraphQL's default resolver calls it only when the field is
  // selected: counting a large tenant's log costs far more than reading one page.
  return { ...toConnection(rows, size, 0, cursorOf, hasPreviousPage), totalCount };
}

export function viewOf(row: StoredRow): AuditRecordView {
  const record = storedRecordOf(row);
  return {
    id: record.id,
    sequence: record.seq.toString(),
    occurredAt: dateOfMicros(record.occurredAtMicros),
    receivedAt: dateOfMicros(record.receivedAtMicros),
    actor: {
      kind: record.actorKind,
      id: record.actorId,
      sessionId: record.actorSessionId,
      roles: [...record.actorRoles],
      ip: record.actorIp,
      userAgent: record.actorUserAgent,
    },
    action: record.action,
    operation: record.operation,
    entityType: record.entityType,
    entityId: record.entityId,
    patientId: record.patientId,
    changedFields: [...record.changedFields],
    outcome: record.outcome,
    reason: record.reason,
    traceId: record.traceId,
    requestId: record.requestId,
    producer: record.producer,
    occurredAtMicros: record.occurredAtMicros,
  };
}
