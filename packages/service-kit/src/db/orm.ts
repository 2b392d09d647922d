import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Migration } from '@mikro-orm/migrations';
import type { Logger } from 'pino';
import { TENANT_FILTER } from './tenant-filter.js';
import { TENANT_SETTING } from './rls.js';

export type { EntityManager };
export { MikroORM };

export interface OrmOptions {
  clientUrl: string;
  /** The service's schema; every entity and the migrations table live in it. */
  schema: string;
  entities: NonNullable<Options['entities']>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  migrations?: (new (...args: any[]) => Migration)[];
  poolMax?: number;
  logger?: Logger;
  debug?: boolean;
}

/** Opens the MikroORM instance of a service on PostgreSQL. */
export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: options.clientUrl,
    schema: options.schema,
    entities: options.entities,
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax ?? 10 },
    debug: options.debug ?? false,
    // Identity maps live for one unit of work only; a shared global context would mix tenants.
    allowGlobalContext: false,
    ensureDatabase: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: (options.migrations ?? []).map((migration) => ({
        name: migration.name,
        class: migration,
      })),
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    logger: options.logger ? (message: string) => options.logger?.debug({ orm: message }) : undefined,
  });
}

/** Applies the pending migrations of a service; the ORM must be connected as the schema owner. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((migration) => migration.name);
}

/**
 * Runs `work` in one transaction scoped to `tenantId`: the ORM tenant filter gets the tenant, and the
 * transaction-local setting that row-level security reads is set, so raw SQL and query builders are
 * limited to the same tenant. Both are transaction-local, so a pooled connection never carries a
 * tenant into the next unit of work.
 */
export async function inTenantTransaction<T>(
  orm: MikroORM,
  tenantId: string,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  if (!tenantId)
    throw new Error(
      'inTenantTransaction needs a tenant id; background work must take it from the event or row.',
    );
  const em = orm.em.fork({ clear: true });
  em.setFilterParams(TENANT_FILTER, { tenantId });
  return em.transactional(async (tx) => {
    await tx.execute(`select set_config('${TENANT_SETTING}', ?, true)`, [tenantId]);
    return work(tx);
  });
}

/** Runs `work` in a transaction that belongs to no tenant, for tables without tenant_id. */
export async function inPlatformTransaction<T>(
  orm: MikroORM,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  return orm.em.fork({ clear: true }).transactional(async (tx) => work(tx));
}
