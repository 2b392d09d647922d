import { provisionServiceDatabase } from '@hms/service-kit/db/provision';
import { serviceDatabaseRoles } from '@hms/service-kit/db/roles';

/** Superuser URL of the local PostgreSQL; tests use it to provision roles and to tamper as the owner would. */
export const testAdminUrl =
  process.env.HMS_TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The database integration tests use, apart from the one scripts/start fills with demo data. */
export const testDatabaseName = process.env.HMS_TEST_DATABASE ?? 'hms_test';

export interface ServiceTestDatabase {
  schema: string;
  /** URL of the runtime role: under row-level security, no schema changes. */
  appUrl: string;
  /** URL of the schema owner, which runs migrations. */
  ownerUrl: string;
  /** Superuser URL of the test database. */
  adminUrl: string;
}

function urlFor(role: string | undefined): string {
  const url = new URL(testAdminUrl);
  if (role) url.username = role;
  url.pathname = `/${testDatabaseName}`;
  return url.toString();
}

/** Provisions the schema and roles of `service` in the test database and returns its connection URLs. */
export async function provisionTestDatabase(
  service: string,
  extensions: string[] = [],
  leakproofFunctions: string[] = [],
): Promise<ServiceTestDatabase> {
  await provisionServiceDatabase({
    adminUrl: testAdminUrl,
    database: testDatabaseName,
    service,
    extensions,
    leakproofFunctions,
  });
  const roles = serviceDatabaseRoles(service);
  return {
    schema: roles.schema,
    appUrl: urlFor(roles.app),
    ownerUrl: urlFor(roles.owner),
    adminUrl: urlFor(undefined),
  };
}
