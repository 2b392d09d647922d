import { runMigrationJob } from '@hms/service-kit/db/migration-job';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';

await runMigrationJob('audit', { entities, migrations });
