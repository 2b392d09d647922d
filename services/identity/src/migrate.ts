import { runMigrationJob } from '@hms/service-kit/db/migration-job';
import { identityEntities } from './entities/index.js';
import { identityMigrations } from './migrations/index.js';

// Runs before a new version starts: provisions the schema and roles when HMS_DATABASE_ADMIN_URL is set,
// then applies pending migrations as the schema owner (HMS_MIGRATION_DATABASE_URL).
await runMigrationJob('identity', { entities: identityEntities, migrations: identityMigrations });
