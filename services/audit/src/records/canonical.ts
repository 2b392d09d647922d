import { createHash } from 'node:crypto';

/** Version tag that starts every serialization; a new canonical form gets a new tag, old links keep theirs. */
export const CANONICAL_VERSION = 'hms.audit.v1';

/** Length of a link hash (SHA-256) in bytes. */
export const HASH_LENGTH = 32;

/** The previous hash of a tenant's first record: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(HASH_LENGTH);

/**
 * A record as stored: the values the hash covers. Instants are whole microseconds since the Unix
 * epoch, which is PostgreSQL's timestamptz precision, so a change below the millisecond is detected too.
 */
export interface ChainedRecord {
  tenantId: string;
  seq: bigint;
  id: string;
  occurredAtMicros: bigint;
  receivedAtMicros: bigint;
  actorKind: string;
  actorId: string | null;
  actorSessionId: string | null;
  actorRoles: readonly string[];
  actorIp: string | null;
  actorUserAgent: string | null;
  action: string;
  operation: string;
  entityType: string | null;
  entityId: string | null;
  patientId: string | null;
  changedFields: readonly string[];
  outcome: string;
  reason: string | null;
  traceId: string | null;
  requestId: string | null;
  producer: string;
  prevHash: Buffer;
}

/**
 * Serializes a record in canonical form v1, the exact bytes its hash covers. Anyone can recompute a
 * hash from an export of the table with this description:
 *
 *   string  = 0x01, uint32 big-endian byte length, UTF-8 bytes
 *   null    = 0x00 (an absent optional string; distinct from any string)
 *   list    = uint32 big-endian count, then each element as a string
 *   int64   = 8 bytes, big-endian two's complement
 *   bytes32 = the 32 bytes as they are
 *
 * Fields, in this order: version tag "hms.audit.v1" (string), prev_hash (bytes32), tenant_id
 * (string), seq (int64), id (string), occurred_at and received_at (int64, microseconds since
 * 1970-01-01T00:00:00Z), actor_kind, actor_id, actor_session_id (strings), actor_roles (list),
 * actor_ip, actor_user_agent, action, operation, entity_type, entity_id, patient_id (strings),
 * changed_fields (list), outcome, reason, trace_id, request_id, producer (strings).
 *
 * UUIDs are written in PostgreSQL's text form (lowercase, hyphenated); enumerations by their names,
 * such as READ or SUCCESS. Every field is length-prefixed, so no two different records serialize
 * to the same bytes.
 */
export function canonicalBytes(record: ChainedRecord): Buffer {
  if (record.prevHash.length !== HASH_LENGTH) {
    throw new Error(`prev_hash must be ${HASH_LENGTH} bytes, got ${record.prevHash.length}.`);
  }
  const writer = new CanonicalWriter();
  writer.string(CANONICAL_VERSION);
  writer.raw(record.prevHash);
  writer.string(record.tenantId);
  writer.int64(record.seq);
  writer.string(record.id);
  writer.int64(record.occurredAtMicros);
  writer.int64(record.receivedAtMicros);
  writer.string(record.actorKind);
  writer.string(record.actorId);
  writer.string(record.actorSessionId);
  writer.list(record.actorRoles);
  writer.string(record.actorIp);
  writer.string(record.actorUserAgent);
  writer.string(record.action);
  writer.string(record.operation);
  writer.string(record.entityType);
  writer.string(record.entityId);
  writer.string(record.patientId);
  writer.list(record.changedFields);
  writer.string(record.outcome);
  writer.string(record.reason);
  writer.string(record.traceId);
  writer.string(record.requestId);
  writer.string(record.producer);
  return writer.toBuffer();
}

/** Computes a record's link hash: SHA-256 of its canonical form, which includes the previous hash. */
export function chainHash(record: ChainedRecord): Buffer {
  return createHash('sha256').update(canonicalBytes(record)).digest();
}

/** Converts a JavaScript Date (millisecond precision) to microseconds since the epoch. */
export function microsOf(date: Date): bigint {
  return BigInt(date.getTime()) * 1000n;
}

class CanonicalWriter {
  private readonly parts: Buffer[] = [];

  string(value: string | null): void {
    if (value === null) {
      this.parts.push(Buffer.of(0));
      return;
    }
    const bytes = Buffer.from(value, 'utf8');
    const header = Buffer.alloc(5);
    header.writeUInt8(1, 0);
    header.writeUInt32BE(bytes.length, 1);
    this.parts.push(header, bytes);
  }

  list(values: readonly string[]): void {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(values.length, 0);
    this.parts.push(count);
    for (const value of values) this.string(value);
  }

  int64(value: bigint): void {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(value, 0);
    this.parts.push(bytes);
  }

  raw(bytes: Buffer): void {
    this.parts.push(bytes);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
