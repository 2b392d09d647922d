import { createOrm, migrate, type MikroORM } from '@hms/service-kit';
import { provisionTestDatabase, type ServiceTestDatabase } from '@hms/test-kit';
import { entities } from '../entities/index.js';
import { migrations } from '../migrations/index.js';

/** Provisions the audit schema in the test database and applies its migrations as the owner. */
export async function migrateTestDatabase(): Promise<ServiceTestDatabase> {
  const database = await provisionTestDatabase('audit');
  const owner = await createOrm({ clientUrl: database.ownerUrl, schema: 'audit', entities, migrations });
  try {
    await migrate(owner);
  } finally {
    await owner.close();
  }
  return database;
}

/** Opens an ORM on the app role of the migrated test database, as the running service connects. */
export async function openAppOrm(database: ServiceTestDatabase, poolMax?: number): Promise<MikroORM> {
  return createOrm({ clientUrl: database.appUrl, schema: 'audit', entities, poolMax });
}
