import { inTenantTransaction, type MikroORM } from '@hms/service-kit';
import { chainHash, GENESIS_HASH } from './canonical.js';
import { STORED_COLUMNS, storedRecordOf, type StoredRow } from './stored.js';

/** Reasons a chain is not intact, reported for its first broken link. */
export const CHAIN_BREAK_REASONS = [
  /** The record's stored hash is not the hash of its stored fields: the row was changed. */
  'HASH_MISMATCH',
  /** The record's prev_hash is not the hash of the record before it: a record was changed or replaced. */
  'PREV_HASH_MISMATCH',
  /** A sequence number is missing: a record was deleted. */
  'MISSING_RECORD',
  /** The last record is not the one the chain head names: records were removed from the end, or the head was changed. */
  'HEAD_MISMATCH',
] as const;
export type ChainBreakReason = (typeof CHAIN_BREAK_REASONS)[number];

export type ChainVerification =
  | { intact: true; records: bigint; headHash: Buffer }
  | {
      intact: false;
      /** Records checked and found sound before the break. */
      records: bigint;
      firstBrokenSeq: bigint;
      /**
       * The record at the break: the changed record, or the first record after a gap. Null when the
       * missing records are at the end of the chain.
       */
      recordId: string | null;
      reason: ChainBreakReason;
    };

export interface VerifyOptions {
  /** Records read per query; each batch is its own short transaction. */
  batchSize?: number;
}

/**
 * Walks the tenant's chain in sequence order and recomputes every hash, reporting the first broken
 * link. Records are read in batches, so memory stays flat however long the chain is. The walk stops
 * at the head as it was when the walk started; records appended meanwhile are left for the next run.
 */
export async function verifyChain(
  orm: MikroORM,
  tenantId: string,
  options: VerifyOptions = {},
): Promise<ChainVerification> {
  const batchSize = options.batchSize ?? 1000;
  const head = await inTenantTransaction(orm, tenantId, async (em) => {
    const rows = await em.execute<{ seq: string; hash: Buffer }[]>(
      'select seq::text as seq, hash from audit.chain_heads where tenant_id = ?',
      [tenantId],
    );
    return rows[0] ? { seq: BigInt(rows[0].seq), hash: rows[0].hash } : undefined;
  });

  // Without a head the tenant has never appended, so any record found is a break in itself. The walk
  // then runs without an upper bound, and the end-of-chain check below reports it.
  const lastSeq = head?.seq;
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  let lastId: string | null = null;

  for (;;) {
    const upper = lastSeq === undefined ? '' : ' and r.seq <= ?';
    const rows = await inTenantTransaction(orm, tenantId, (em) =>
      em.execute<StoredRow[]>(
        // Ordered by the table's column: a bare `seq` would name the text alias of STORED_COLUMNS.
        `select ${STORED_COLUMNS} from audit.audit_records as r
         where r.tenant_id = ? and r.seq >= ?${upper} order by r.seq limit ?`,
        [tenantId, expectedSeq.toString(), ...(lastSeq === undefined ? [] : [lastSeq.toString()]), batchSize],
      ),
    );

    for (const row of rows) {
      const record = storedRecordOf(row);
      const checked = expectedSeq - 1n;
      if (record.seq !== expectedSeq) {
        return broken(checked, expectedSeq, record.id, 'MISSING_RECORD');
      }
      if (!record.prevHash.equals(prevHash)) {
        return broken(checked, record.seq, record.id, 'PREV_HASH_MISMATCH');
      }
      if (!chainHash(record).equals(record.hash)) {
        return broken(checked, record.seq, record.id, 'HASH_MISMATCH');
      }
      prevHash = record.hash;
      lastId = record.id;
      expectedSeq += 1n;
    }
    if (rows.length < batchSize) break;
  }

  const checked = expectedSeq - 1n;
  if (lastSeq !== undefined && checked < lastSeq) {
    return broken(checked, expectedSeq, null, 'MISSING_RECORD');
  }
  if (head === undefined ? checked > 0n : !head.hash.equals(prevHash)) {
    return broken(checked, checked, lastId, 'HEAD_MISMATCH');
  }
  return { intact: true, records: checked, headHash: prevHash };
}

function broken(
  records: bigint,
  firstBrokenSeq: bigint,
  recordId: string | null,
  reason: ChainBreakReason,
): ChainVerification {
  return { intact: false, records, firstBrokenSeq, recordId, reason };
}
