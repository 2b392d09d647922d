import pg from 'pg';
import { serviceDatabaseRoles } from './roles.js';

export interface ProvisionOptions {
  /** A superuser connection to the server, used only for this step (a DBA's job in production). */
  adminUrl: string;
  /** The database the services share; each service lives in its own schema inside it. */
  database: string;
  service: string;
  /**
   * PostgreSQL extensions the service's migrations rely on (such as pg_trgm). Creating one needs a
   * superuser, so it happens here and not in the owner's migrations.
   */
  extensions?: string[];
  /**
   * Built-in functions to mark LEAKPROOF, such as `pg_catalog.textlike(text, text)`. Under row-level
   * security PostgreSQL uses an index for a condition only when its operator function is leakproof, so
   * without this a LIKE search reads every row of the tenant. Needs a superuser, applies database-wide.
   */
  leakproofFunctions?: string[];
}

/**
 * Creates, when missing, the database, the owner and app roles of a service and its schema, and grants
 * the app role row access to everything the owner creates there. Safe to run on every deployment.
 */
export async function provisionServiceDatabase(options: ProvisionOptions): Promise<void> {
  const roles = serviceDatabaseRoles(options.service);
  const ident = (name: string) => pg.escapeIdentifier(name);

  // Step 1: the database itself, through the maintenance database of the admin URL.
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [options.database]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${ident(options.database)}`).catch((error: { code?: string }) => {
        // Another service provisioning in parallel may have created it first.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
    for (const role of [roles.owner, roles.app]) {
      await admin
        .query(
          `do $$ begin if not exists (select from pg_roles where rolname = ${pg.escapeLiteral(role)}) then create role ${ident(role)} login nosuperuser nobypassrls nocreatedb nocreaterole; end if; end $$`,
        )
        .catch((error: { code?: string }) => {
          if (error.code !== '23505' && error.code !== '42710') throw error;
        });
    }
  } finally {
    await admin.end();
  }

  // Step 2: the schema and grants, inside the target database.
  const url = new URL(options.adminUrl);
  url.pathname = `/${options.database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(
      `grant connect on database ${ident(options.database)} to ${ident(roles.owner)}, ${ident(roles.app)}`,
    );
    await client.query(
      `create schema if not exists ${ident(roles.schema)} authorization ${ident(roles.owner)}`,
    );
    for (const extension of options.extensions ?? []) {
      await client.query(`create extension if not exists ${ident(extension)} with schema public`);
    }
    for (const signature of options.leakproofFunctions ?? []) {
      if (!/^[a-z_][a-z0-9_.]*\([a-z0-9_, ]*\)$/.test(signature)) {
        throw new Error(
          `Invalid function signature ${JSON.stringify(signature)}: expected a form like pg_catalog.textlike(text, text).`,
        );
      }
      await client.query(`alter function ${signature} leakproof`);
    }
    await client.query(`grant usage on schema ${ident(roles.schema)} to ${ident(roles.app)}`);
    await client.query(
      `alter default privileges for role ${ident(roles.owner)} in schema ${ident(roles.schema)} grant select, insert, update, delete on tables to ${ident(roles.app)}`,
    );
    await client.query(
      `alter default privileges for role ${ident(roles.owner)} in schema ${ident(roles.schema)} grant usage, select on sequences to ${ident(roles.app)}`,
    );
    await client.query(
      `alter role ${ident(roles.app)} in database ${ident(options.database)} set search_path = ${ident(roles.schema)}`,
    );
    await client.query(
      `alter role ${ident(roles.owner)} in database ${ident(options.database)} set search_path = ${ident(roles.schema)}`,
    );
  } finally {
    await client.end();
  }
}
