import type { EntityManager } from '@hms/service-kit';

/** Digits of the counter in an MRN; numbers past 999999 simply grow longer. */
const MRN_DIGITS = 6;

export const MRN_PATTERN = /^MRN-\d{6,}$/;

/** Formats a counter value as an MRN, such as MRN-000042. */
export function formatMrn(value: number): string {
  return `MRN-${String(value).padStart(MRN_DIGITS, '0')}`;
}

/**
 * Takes the next MRN of the current tenant. It must run in the transaction that inserts the patient:
 * the upsert locks the tenant's counter row until commit, so concurrent registrations of one tenant
 * queue here and a rolled-back registration returns its number, which keeps MRNs gapless. The first
 * registration of a tenant creates the row; `on conflict` turns a concurrent first insert into the
 * same increment. Call it as late as possible in the transaction to hold the lock briefly.
 */
export async function nextMrn(em: EntityManager, tenantId: string): Promise<string> {
  const rows = await em.execute<{ last_value: string }[]>(
    `insert into clinical.mrn_counters (tenant_id, last_value) values (?, 1)
     on conflict (tenant_id) do update set last_value = mrn_counters.last_value + 1
     returning last_value`,
    [tenantId],
  );
  const value = Number(rows[0]?.last_value);
  if (!Number.isSafeInteger(value)) throw new Error('The MRN counter returned no value.');
  return formatMrn(value);
}
