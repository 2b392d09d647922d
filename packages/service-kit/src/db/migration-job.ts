import { z } from 'zod';
import { env, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createOrm, migrate, type OrmOptions } from './orm.js';
import { provisionServiceDatabase } from './provision.js';

/**
 * Runs as the migration job of a service, before its new version starts. With
 * `HMS_DATABASE_ADMIN_URL` set (development, tests, first installs) it first provisions the database,
 * schema and roles; it then applies pending migrations as the schema owner from
 * `HMS_MIGRATION_DATABASE_URL`.
 */
export async function runMigrationJob(
  service: string,
  options: Pick<OrmOptions, 'entities' | 'migrations'> & {
    extensions?: string[];
    leakproofFunctions?: string[];
  },
): Promise<void> {
  const logger = createLogger(`${service}-migrations`);
  const config = loadConfig({
    HMS_MIGRATION_DATABASE_URL: env.url('a PostgreSQL URL of the schema owner role'),
    HMS_DATABASE_ADMIN_URL: env.url('a PostgreSQL superuser URL').optional(),
    HMS_DATABASE_NAME: z.string().min(1).optional(),
  });

  if (config.HMS_DATABASE_ADMIN_URL) {
    const database = config.HMS_DATABASE_NAME ?? new URL(config.HMS_MIGRATION_DATABASE_URL).pathname.slice(1);
    await provisionServiceDatabase({
      adminUrl: config.HMS_DATABASE_ADMIN_URL,
      database,
      service,
      extensions: options.extensions,
      leakproofFunctions: options.leakproofFunctions,
    });
    logger.info({ database }, 'Provisioned the database, schema and roles.');
  }

  const orm = await createOrm({
    clientUrl: config.HMS_MIGRATION_DATABASE_URL,
    schema: service,
    entities: options.entities,
    migrations: options.migrations,
  });
  try {
    const applied = await migrate(orm);
    logger.info({ applied }, applied.length ? 'Applied migrations.' : 'The schema is up to date.');
  } finally {
    await orm.close();
  }
}
