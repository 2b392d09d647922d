import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** The last link of a tenant's audit chain: its sequence number and hash (32 zero bytes before the first). */
export const ChainHead = defineEntity({
  name: 'ChainHead',
  tableName: 'chain_heads',
  properties: {
    tenantId: p.uuid().primary(),
    seq: p.bigint('bigint'),
    hash: p.blob(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type ChainHead = InferEntity<typeof ChainHead>;
