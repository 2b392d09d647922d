import { inTenantTransaction, type EntityManager, type MikroORM } from '@hms/service-kit';
import { chainHash, GENESIS_HASH, microsOf, type ChainedRecord } from './canonical.js';
import { normalizeAuditRecord, type AuditRecordInput, type NormalizedAuditRecord } from './input.js';

/** Rows per INSERT statement; keeps one statement's SQL text to a few hundred kilobytes. */
const INSERT_CHUNK = 500;

export interface AppendResult {
  /** Id and chain position of each record stored by this call, in chain order. */
  appended: { id: string; seq: bigint }[];
  /** Ids that were already stored (a redelivery) or repeated within the batch; they were not stored again. */
  skipped: string[];
  /** Sequence number of the tenant's last record after the append. */
  headSeq: bigint;
}

/**
 * Appends records to the hash chain of `tenantId` in one transaction. Records keep the order given;
 * each is validated first, and one invalid record rejects the whole batch with an
 * InvalidAuditRecordError. Idempotent by record id: an id already stored is skipped and the chain is
 * not extended for it.
 */
export async function appendAuditRecords(
  orm: MikroORM,
  tenantId: string,
  records: readonly AuditRecordInput[],
  receivedAt: Date = new Date(),
): Promise<AppendResult> {
  const normalized = records.map((record) => normalizeAuditRecord(record, tenantId));
  return inTenantTransaction(orm, tenantId, (em) => appendNormalized(em, tenantId, normalized, receivedAt));
}

/**
 * Appends records inside the caller's tenant transaction, so that a change and its audit record
 * commit together. The transaction holds the tenant's chain lock until it ends: keep the work after
 * this call short.
 */
export async function appendInTransaction(
  em: EntityManager,
  tenantId: string,
  records: readonly AuditRecordInput[],
  receivedAt: Date = new Date(),
): Promise<AppendResult> {
  const normalized = records.map((record) => normalizeAuditRecord(record, tenantId));
  return appendNormalized(em, tenantId, normalized, receivedAt);
}

async function appendNormalized(
  em: EntityManager,
  tenantId: string,
  records: readonly NormalizedAuditRecord[],
  receivedAt: Date,
): Promise<AppendResult> {
  // A batch may carry the same record twice (a producer retry inside one poll); the first one counts.
  const skipped: string[] = [];
  const seen = new Set<string>();
  const unique = records.filter((record) => {
    if (seen.has(record.id)) {
      skipped.push(record.id);
      return false;
    }
    seen.add(record.id);
    return true;
  });

  // Lock the tenant's chain head. Every append of the tenant takes this row lock first, so appends
  // queue here, sequence numbers stay gapless, and the duplicate check below cannot race with another
  // insert of the same id. The upsert creates the head on a tenant's first append and otherwise locks
  // it without changing it, in one round trip. PostgreSQL returns the latest committed head even
  // when this statement had to wait for another append's lock.
  const heads = await em.execute<{ seq: string; hash: Buffer }[]>(
    `insert into audit.chain_heads as head (tenant_id, seq, hash, updated_at) values (?, 0, ?, ?)
     on conflict (tenant_id) do update set updated_at = head.updated_at
     returning head.seq::text as seq, head.hash`,
    [tenantId, GENESIS_HASH, receivedAt.toISOString()],
  );
  const head = heads[0];
  if (!head) throw new Error(`The audit chain head of tenant ${tenantId} could not be locked.`);

  const stored = await storedIds(
    em,
    tenantId,
    unique.map((record) => record.id),
  );
  const fresh = unique.filter((record) => {
    if (!stored.has(record.id)) return true;
    skipped.push(record.id);
    return false;
  });

  // Link each new record to the one before it.
  let seq = BigInt(head.seq);
  let prevHash = head.hash;
  const receivedAtMicros = microsOf(receivedAt);
  const chained = fresh.map((record) => {
    seq += 1n;
    const link: ChainedRecord = {
      ...record,
      seq,
      occurredAtMicros: microsOf(record.occurredAt),
      receivedAtMicros,
      prevHash,
    };
    const hash = chainHash(link);
    prevHash = hash;
    return { record, seq: link.seq, prevHash: link.prevHash, hash };
  });
  if (chained.length === 0) return { appended: [], skipped, headSeq: BigInt(head.seq) };

  for (let start = 0; start < chained.length; start += INSERT_CHUNK) {
    await insertRows(em, chained.slice(start, start + INSERT_CHUNK), receivedAt);
  }
  await em.execute('update audit.chain_heads set seq = ?, hash = ?, updated_at = ? where tenant_id = ?', [
    seq.toString(),
    prevHash,
    receivedAt.toISOString(),
    tenantId,
  ]);

  return {
    appended: chained.map((link) => ({ id: link.record.id, seq: link.seq })),
    skipped,
    headSeq: seq,
  };
}

/** Returns which of `ids` the tenant's log already holds. */
async function storedIds(em: EntityManager, tenantId: string, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let start = 0; start < ids.length; start += INSERT_CHUNK) {
    const chunk = ids.slice(start, start + INSERT_CHUNK);
    const rows = await em.execute<{ id: string }[]>(
      'select id::text as id from audit.audit_records where tenant_id = ? and id in (?)',
      [tenantId, chunk],
    );
    for (const row of rows) found.add(row.id);
  }
  return found;
}

interface ChainedRow {
  record: NormalizedAuditRecord;
  seq: bigint;
  prevHash: Buffer;
  hash: Buffer;
}

const INSERT_COLUMNS = `tenant_id, id, seq, occurred_at, received_at, actor_kind, actor_id, actor_session_id,
  actor_roles, actor_ip, actor_user_agent, action, operation, entity_type, entity_id, patient_id,
  changed_fields, outcome, reason, trace_id, request_id, producer, prev_hash, hash`;

/** An array parameter of the ORM's SQL formatting expands to a comma-separated list, hence `array[?]`. */
const ROW_PLACEHOLDERS =
  '(?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?, array[?]::text[], ?, ?, ?, ?, ?, ?, ?, array[?]::text[], ?, ?, ?, ?, ?, ?, ?)';

async function insertRows(em: EntityManager, rows: ChainedRow[], receivedAt: Date): Promise<void> {
  const params: unknown[] = [];
  for (const { record, seq, prevHash, hash } of rows) {
    params.push(
      record.tenantId,
      record.id,
      seq.toString(),
      record.occurredAt.toISOString(),
      receivedAt.toISOString(),
      record.actorKind,
      record.actorId,
      record.actorSessionId,
      record.actorRoles,
      record.actorIp,
      record.actorUserAgent,
      record.action,
      record.operation,
      record.entityType,
      record.entityId,
      record.patientId,
      record.changedFields,
      record.outcome,
      record.reason,
      record.traceId,
      record.requestId,
      record.producer,
      prevHash,
      hash,
    );
  }
  const values = rows.map(() => ROW_PLACEHOLDERS).join(',\n');
  await em.execute(`insert into audit.audit_records (${INSERT_COLUMNS}) values ${values}`, params, 'run');
}
