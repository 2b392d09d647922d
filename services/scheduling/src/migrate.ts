import { env, loadConfig, provisionRelayRole, provisionServiceDatabase } from '@hms/service-kit';
import { runMigrationJob } from '@hms/service-kit/db/migration-job';
import { z } from 'zod';
import { entities } from './entities/index.js';
import { extensions, leakproofFunctions, migrations } from './migrations/index.js';

// The outbox policies name the relay role, so with HMS_DATABASE_ADMIN_URL set the role is created
// before the migrations. The schema is provisioned first because the role gets usage on it, and
// runMigrationJob provisioning it again is harmless because provisioning is idempotent.
const config = loadConfig({
  HMS_MIGRATION_DATABASE_URL: env.url('a PostgreSQL URL of the schema owner role'),
  HMS_DATABASE_ADMIN_URL: env.url('a PostgreSQL superuser URL').optional(),
  HMS_DATABASE_NAME: z.string().min(1).optional(),
});
if (config.HMS_DATABASE_ADMIN_URL) {
  const database = config.HMS_DATABASE_NAME ?? new URL(config.HMS_MIGRATION_DATABASE_URL).pathname.slice(1);
  const adminUrl = config.HMS_DATABASE_ADMIN_URL;
  await provisionServiceDatabase({
    adminUrl,
    database,
    service: 'scheduling',
    extensions,
    leakproofFunctions,
  });
  await provisionRelayRole({ adminUrl, database, service: 'scheduling' });
}

await runMigrationJob('scheduling', { entities, migrations, extensions, leakproofFunctions });
