import type { Express } from 'express';
import { isUuid, type Logger } from '@hms/service-kit';
import type { TenantService } from './tenant-service.js';

/**
 * Mounts GET /internal/tenants/:id/status, which the gateway calls when Redis has no status for a
 * tenant. It reveals only the status of a tenant whose id the caller already has.
 * NOTE: the route is unauthenticated, so the deployment must keep /internal/ reachable from the gateway only.
 */
export function mountTenantStatusRoute(app: Express, tenants: TenantService, logger: Logger): void {
  app.get('/internal/tenants/:id/status', async (req, res) => {
    const id = req.params.id;
    res.set('cache-control', 'no-store');
    if (!isUuid(id)) {
      res.status(404).json({ error: 'tenant not found' });
      return;
    }
    try {
      const tenant = await tenants.get(id);
      if (!tenant) {
        res.status(404).json({ error: 'tenant not found' });
        return;
      }
      res.json({ status: tenant.status });
    } catch (error) {
      logger.error(
        { err: error, tenantId: id },
        'Could not read a tenant status for the gateway, which gets 503 and retries. Check PostgreSQL.',
      );
      res.status(503).json({ error: 'tenant status unavailable' });
    }
  });
}
