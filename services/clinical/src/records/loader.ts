import DataLoader from 'dataloader';
import {
  inTenantTransaction,
  memoize,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { auditPatientReads } from '../patients/events.js';

/** Largest number of patients one batched query reads, to keep the array parameter and result bounded. */
const MAX_BATCH = 500;

/**
 * Returns the request's loader named `name` for a per-patient field. `batch` reads the values of all
 * patients loaded in one tick, in one tenant transaction. The patients whose records it read get READ
 * audit records in the same transaction. The loader lives in the request's memo, so batches never
 * mix requests or tenants.
 */
export function patientFieldLoader<T>(
  orm: MikroORM,
  context: SubgraphContext,
  tenantId: string,
  name: string,
  batch: (em: EntityManager, patientIds: readonly string[]) => Promise<Map<string, T>>,
  empty: () => T,
): DataLoader<string, T> {
  return memoize(
    context,
    `records:${name}`,
    () =>
      new DataLoader<string, T>(
        async (patientIds) => {
          const values = await inTenantTransaction(orm, tenantId, async (em) => {
            const loaded = await batch(em, patientIds);
            await auditPatientReads(em, context, tenantId, [...loaded.keys()]);
            return loaded;
          });
          return patientIds.map((id) => values.get(id) ?? empty());
        },
        { maxBatchSize: MAX_BATCH },
      ),
  );
}
