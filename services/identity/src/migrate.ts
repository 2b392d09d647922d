import { env, loadConfig, provisionRelayRole, provisionServiceDatabase } from '@hms/service-kit';
import { runMigrationJob } from '@hms/service-kit/db/migration-job';
import { z } from 'zod';
import { identityEntities } from './entities/index.js';
import { identityMigrations } from './migrations/index.js';

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
  await provisionServiceDatabase({ adminUrl, database, service: 'identity' });
  await provisionRelayRole({ adminUrl, database, service: 'identity' });
}

// Runs before a new version starts: provisions the schema and roles when HMS_DATABASE_ADMIN_URL is set,
// then applies pending migrations as the schema owner (HMS_MIGRATION_DATABASE_URL).
await runMigrationJob('identity', { entities: identityEntities, migrations: identityMigrations });
