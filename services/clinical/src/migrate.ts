import { runMigrationJob } from '@hms/service-kit/db/migration-job';
import { entities } from './entities/index.js';
import { extensions, leakproofFunctions, migrations } from './migrations/index.js';

await runMigrationJob('clinical', { entities, migrations, extensions, leakproofFunctions });
