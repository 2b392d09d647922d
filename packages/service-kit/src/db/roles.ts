/**
 * Database roles of one service. The owner runs migrations and owns the schema; the app role is what
 * the running service connects as: it can read and write rows but cannot change the schema, does not
 * own the tables and so stays under their row-level security.
 */
export interface ServiceDatabaseRoles {
  schema: string;
  owner: string;
  app: string;
}

export function serviceDatabaseRoles(service: string): ServiceDatabaseRoles {
  if (!/^[a-z][a-z0-9_]*$/.test(service)) {
    throw new Error(
      `Invalid service name ${JSON.stringify(service)}: use lowercase letters, digits and underscores.`,
    );
  }
  return { schema: service, owner: `hms_${service}_owner`, app: `hms_${service}_app` };
}
