import {
  inPlatformTransaction,
  sessionStateKeys,
  writeTenantStatus,
  type TenantStatus,
} from '@hms/service-kit';
import type { IdentityDeps } from '../deps.js';
import { Tenant } from '../entities/tenant.js';

/** How often every status is written again, repairing keys lost to a Redis restart or a failed write. */
export const TENANT_STATUS_REPUBLISH_MS = 5 * 60_000;

/**
 * Writes every tenant's status to Redis. Redis may keep nothing on disk, so identity does this at start
 * and every few minutes. In between, the gateway calls /internal/tenants/:id/status on a cache miss.
 */
export async function publishAllTenantStatuses(
  deps: Pick<IdentityDeps, 'orm' | 'redis' | 'logger'>,
): Promise<number> {
  const batchSize = 500;
  let published = 0;
  let after: string | undefined;
  for (;;) {
    const page = await inPlatformTransaction(deps.orm, (em) =>
      em.find(Tenant, after ? { id: { $gt: after } } : {}, {
        fields: ['id', 'status'],
        orderBy: { id: 'asc' },
        limit: batchSize,
      }),
    );
    if (page.length === 0) break;
    const pipeline = deps.redis.pipeline();
    for (const tenant of page) pipeline.set(sessionStateKeys.tenantStatus(tenant.id), tenant.status);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    published += page.length;
    after = page.at(-1)?.id;
  }
  deps.logger.info({ tenants: published }, 'Published the status of every tenant to Redis.');
  return published;
}

/** Writes one tenant's status to Redis after a change. A failure is only logged, because the database already has the change. */
export async function publishTenantStatus(
  deps: Pick<IdentityDeps, 'redis' | 'logger'>,
  tenantId: string,
  status: TenantStatus,
): Promise<void> {
  try {
    await writeTenantStatus(deps.redis, tenantId, status);
  } catch (error) {
    deps.logger.error(
      { err: error, tenantId, status },
      'Could not write the tenant status to Redis; the gateway may see the old status until the next periodic publication.',
    );
  }
}
