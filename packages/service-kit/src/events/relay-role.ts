import pg from 'pg';
import { serviceDatabaseRoles } from '../db/roles.js';

/**
 * Returns the database role of a service's outbox relay: it reads and marks every tenant's outbox
 * rows and nothing else, so a relay needs no tenant and the service's app role needs no way around
 * row-level security.
 */
export function outboxRelayRole(service: string): string {
  // serviceDatabaseRoles rejects names that are not plain identifiers, since the role ends up in SQL.
  const { schema } = serviceDatabaseRoles(service);
  return `hms_${schema}_relay`;
}

export interface RelayRoleOptions {
  /** A superuser connection to the server, used only for this step (a DBA's job in production). */
  adminUrl: string;
  /** The database the service lives in. */
  database: string;
  service: string;
}

/**
 * Creates, when missing, the relay role of a service and lets it connect and see the service's
 * schema. Table grants come with the outbox migration (outboxTableSql), so the role reaches no table
 * the migrations did not hand it. Run it after provisionServiceDatabase and before the migrations
 * that create the outbox, whose policies name the role. Safe to run on every deployment.
 */
export async function provisionRelayRole(options: RelayRoleOptions): Promise<void> {
  const roles = serviceDatabaseRoles(options.service);
  const relay = outboxRelayRole(options.service);
  const ident = (name: string) => pg.escapeIdentifier(name);

  // Step 1: the role, which belongs to the server rather than to one database.
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  try {
    await admin
      .query(
        `do $$ begin if not exists (select from pg_roles where rolname = ${pg.escapeLiteral(relay)}) then create role ${ident(relay)} login nosuperuser nobypassrls nocreatedb nocreaterole; end if; end $$`,
      )
      .catch((error: { code?: string }) => {
        // Another process provisioning in parallel may have created it first.
        if (error.code !== '23505' && error.code !== '42710') throw error;
      });
  } finally {
    await admin.end();
  }

  // Step 2: connect and schema usage inside the service's database.
  const url = new URL(options.adminUrl);
  url.pathname = `/${options.database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`grant connect on database ${ident(options.database)} to ${ident(relay)}`);
    await client.query(`grant usage on schema ${ident(roles.schema)} to ${ident(relay)}`);
    await client.query(
      `alter role ${ident(relay)} in database ${ident(options.database)} set search_path = ${ident(roles.schema)}`,
    );
  } finally {
    await client.end();
  }
}
