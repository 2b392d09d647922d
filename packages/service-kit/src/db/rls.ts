/** The transaction-local PostgreSQL setting that row-level security policies compare `tenant_id` with. */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * Returns the SQL that puts a tenant-owned table under row-level security. FORCE applies the policy to
 * the table owner too, and a missing setting compares as NULL, so a connection that never set a tenant
 * sees no rows and can write none.
 */
export function tenantIsolationSql(qualifiedTable: string): string[] {
  const tenantExpression = `nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`;
  return [
    `alter table ${qualifiedTable} enable row level security`,
    `alter table ${qualifiedTable} force row level security`,
    `create policy tenant_isolation on ${qualifiedTable} using (tenant_id = ${tenantExpression}) with check (tenant_id = ${tenantExpression})`,
  ];
}
