import { HmsError, memoize, type EntityManager, type SubgraphContext } from '@hms/service-kit';

/** Scheduling's copy of a tenant's settings and status, from identity's events. */
export interface TenantState {
  /** IANA time zone of the tenant's schedules; UTC until identity's first settings event. */
  timeZone: string;
  readAuditEnabled: boolean;
  status: 'ACTIVE' | 'SUSPENDED' | 'OFFBOARDED';
}

const DEFAULTS: TenantState = { timeZone: 'UTC', readAuditEnabled: true, status: 'ACTIVE' };

/** Reads the tenant of the transaction; a tenant without a row has the defaults. */
export async function tenantStateOf(em: EntityManager): Promise<TenantState> {
  const [row] = await em.execute<
    { time_zone: string; read_audit_enabled: boolean; status: TenantState['status'] }[]
  >('select time_zone, read_audit_enabled, status from scheduling.tenant_settings');
  if (!row) return DEFAULTS;
  return { timeZone: row.time_zone, readAuditEnabled: row.read_audit_enabled, status: row.status };
}

/** Reads the tenant once per request and keeps it in the request's memo. */
export function requestTenantState(
  context: SubgraphContext,
  load: () => Promise<TenantState>,
): Promise<TenantState> {
  return memoize(context, 'tenantState', load);
}

/**
 * Throws TENANT_SUSPENDED unless the tenant is active. Every write path calls it, imports and
 * background work included, because the gateway's check covers only requests that pass through it.
 */
export async function assertTenantWritable(em: EntityManager): Promise<TenantState> {
  const tenant = await tenantStateOf(em);
  if (tenant.status !== 'ACTIVE') throw HmsError.tenantSuspended(tenant.status.toLowerCase());
  return tenant;
}

/** Scheduling's copy of a practitioner, from identity's user events. */
export interface PractitionerState {
  id: string;
  active: boolean;
}

/** Reads a practitioner of the transaction's tenant; undefined when identity never announced them. */
export async function practitionerOf(em: EntityManager, id: string): Promise<PractitionerState | undefined> {
  const [row] = await em.execute<{ id: string; active: boolean }[]>(
    'select id, active from scheduling.practitioners where id = ?',
    [id],
  );
  return row;
}

/** Tells whether clinical announced a patient with this id in the transaction's tenant. */
export async function patientExists(em: EntityManager, id: string): Promise<boolean> {
  const rows = await em.execute('select 1 from scheduling.patients where id = ?', [id]);
  return rows.length > 0;
}
