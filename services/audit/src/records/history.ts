import type { EntityManager } from '@hms/service-kit';
import { keysetCondition, viewOf, type AuditCursor, type AuditRecordView } from './query.js';
import { STORED_COLUMNS, type StoredRow } from './stored.js';

/** Whose history a connection lists: a patient's (Patient.accessHistory) or an actor's (User.activity). */
export type HistoryDimension = 'patient' | 'actor';

const KEY_COLUMN: Record<HistoryDimension, { column: string; type: string }> = {
  patient: { column: 'patient_id', type: 'uuid' },
  actor: { column: 'actor_id', type: 'text' },
};

/**
 * Reads the first `limit` records after `cursor` of each key's history in one query, newest first,
 * so a list of many patients with their access history costs one statement. Each key gets its own
 * LIMIT through the lateral join, served by the (tenant_id, key, occurred_at desc, id desc) index.
 */
export async function selectHistories(
  em: EntityManager,
  tenantId: string,
  dimension: HistoryDimension,
  keys: readonly string[],
  cursor: AuditCursor | undefined,
  limit: number,
): Promise<Map<string, AuditRecordView[]>> {
  const { column, type } = KEY_COLUMN[dimension];
  const keyset = keysetCondition(cursor);
  const rows = await em.execute<(StoredRow & { history_key: string })[]>(
    `select history.key::text as history_key, ${STORED_COLUMNS}
     from unnest(array[?]::${type}[]) as history(key)
     cross join lateral (
       select * from audit.audit_records as r
       where r.tenant_id = ? and r.${column} = history.key${keyset.sql}
       order by r.occurred_at desc, r.id desc limit ?
     ) as page
     order by history_key, page.occurred_at desc, page.id desc`,
    [keys, tenantId, ...keyset.params, limit],
  );

  const pages = new Map<string, AuditRecordView[]>(keys.map((key) => [key, []]));
  for (const row of rows) pages.get(row.history_key)?.push(viewOf(row));
  return pages;
}

/** Counts each key's records in one query. */
export async function countHistories(
  em: EntityManager,
  tenantId: string,
  dimension: HistoryDimension,
  keys: readonly string[],
): Promise<Map<string, number>> {
  const { column } = KEY_COLUMN[dimension];
  const rows = await em.execute<{ key: string; count: number }[]>(
    `select r.${column}::text as key, count(*)::int as count from audit.audit_records as r
     where r.tenant_id = ? and r.${column} in (?) group by r.${column}`,
    [tenantId, keys],
  );
  return new Map(rows.map((row) => [row.key, row.count]));
}
