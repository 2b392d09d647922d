import type { Express } from 'express';
import type { Logger } from 'pino';
import client from 'prom-client';

/** A named readiness check: resolves when the dependency responds, rejects otherwise. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout(promise: Promise<unknown>, name: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} did not respond within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Mounts `/healthz` (the process is alive), `/readyz` (every dependency responds; 503 and the failing
 * names otherwise) and `/metrics` (Prometheus text format).
 */
export function mountOperationalRoutes(
  app: Express,
  checks: ReadinessChecks,
  logger: Logger,
  registry: client.Registry,
): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const results: Record<string, string> = {};
    let ready = true;
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), name);
          results[name] = 'ok';
        } catch (error) {
          ready = false;
          results[name] = 'unavailable';
          logger.warn(
            { err: error, dependency: name },
            'Readiness check failed; the service reports not ready.',
          );
        }
      }),
    );
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
}
