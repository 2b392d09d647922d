/** Name of the MikroORM filter that limits every tenant-owned entity to the tenant of the unit of work. */
export const TENANT_FILTER = 'tenant';

/**
 * Filter definition to put in the `filters` of every tenant-owned entity. It is on by default, so a
 * query made without `setFilterParams('tenant', …)` fails instead of reading every tenant's rows.
 * Row-level security in PostgreSQL is the second guard behind it, for raw SQL and query builders.
 */
export const tenantFilters = {
  [TENANT_FILTER]: {
    name: TENANT_FILTER,
    cond: (args: Record<string, unknown>) => ({ tenantId: args.tenantId }),
    default: true,
  },
};
