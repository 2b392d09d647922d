import type { ChainedRecord } from './canonical.js';

/**
 * The columns of audit_records as the chain and the views read them. Several aliases repeat a column
 * name with another type, so queries must qualify columns in ORDER BY. Instants come as whole
 * microseconds since the epoch in text, ids as text, so nothing is rounded on the way to JavaScript
 * (a JavaScript Date holds only milliseconds). `extract(epoch …)` returns an exact numeric since
 * PostgreSQL 14; older servers return a double and would round.
 */
export const STORED_COLUMNS = `
  tenant_id::text as tenant_id, id::text as id, seq::text as seq,
  (extract(epoch from occurred_at) * 1000000)::bigint::text as occurred_at_us,
  (extract(epoch from received_at) * 1000000)::bigint::text as received_at_us,
  actor_kind, actor_id, actor_session_id, actor_roles, actor_ip, actor_user_agent,
  action, operation, entity_type, entity_id, patient_id::text as patient_id, changed_fields,
  outcome, reason, trace_id, request_id, producer, prev_hash, hash`;

/** A row selected with STORED_COLUMNS. */
export interface StoredRow {
  tenant_id: string;
  id: string;
  seq: string;
  occurred_at_us: string;
  received_at_us: string;
  actor_kind: string;
  actor_id: string | null;
  actor_session_id: string | null;
  actor_roles: string[];
  actor_ip: string | null;
  actor_user_agent: string | null;
  action: string;
  operation: string;
  entity_type: string | null;
  entity_id: string | null;
  patient_id: string | null;
  changed_fields: string[];
  outcome: string;
  reason: string | null;
  trace_id: string | null;
  request_id: string | null;
  producer: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/** A stored record in the form the chain hashes, with its stored hash. */
export interface StoredRecord extends ChainedRecord {
  hash: Buffer;
}

export function storedRecordOf(row: StoredRow): StoredRecord {
  return {
    tenantId: row.tenant_id,
    seq: BigInt(row.seq),
    id: row.id,
    occurredAtMicros: BigInt(row.occurred_at_us),
    receivedAtMicros: BigInt(row.received_at_us),
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    actorSessionId: row.actor_session_id,
    actorRoles: row.actor_roles,
    actorIp: row.actor_ip,
    actorUserAgent: row.actor_user_agent,
    action: row.action,
    operation: row.operation,
    entityType: row.entity_type,
    entityId: row.entity_id,
    patientId: row.patient_id,
    changedFields: row.changed_fields,
    outcome: row.outcome,
    reason: row.reason,
    traceId: row.trace_id,
    requestId: row.request_id,
    producer: row.producer,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Converts microseconds since the epoch to a Date, dropping what is below the millisecond. */
export function dateOfMicros(micros: bigint): Date {
  const remainder = ((micros % 1000n) + 1000n) % 1000n;
  return new Date(Number((micros - remainder) / 1000n));
}

/** Writes microseconds since the epoch as an ISO 8601 instant with six decimals, which PostgreSQL reads exactly. */
export function isoOfMicros(micros: bigint): string {
  const remainder = ((micros % 1000n) + 1000n) % 1000n;
  const iso = dateOfMicros(micros).toISOString();
  return `${iso.slice(0, -1)}${String(remainder).padStart(3, '0')}Z`;
}
