import type { Redis } from 'ioredis';
import type { SubgraphEndpoint } from './subgraphs.js';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * Reports the gateway ready when it can check sessions (Redis) and every subgraph responds on its
 * `/healthz`. A subgraph's health URL is its GraphQL URL with the path replaced, because every HMS
 * service serves both on one port.
 */
export async function checkReadiness(redis: Redis, subgraphs: SubgraphEndpoint[]): Promise<ReadinessReport> {
  const entries = await Promise.all([
    probe('redis', async () => {
      const answer = await withTimeout(redis.ping(), CHECK_TIMEOUT_MS);
      if (answer !== 'PONG') throw new Error(`unexpected PING response ${answer}`);
    }),
    ...subgraphs.map((subgraph) =>
      probe(`subgraph:${subgraph.name}`, async () => {
        const response = await fetch(new URL('/healthz', subgraph.url), {
          signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`/healthz responded with HTTP ${response.status}`);
      }),
    ),
  ]);
  const checks = Object.fromEntries(entries);
  return { ready: entries.every(([, result]) => result.ok), checks };
}

async function probe(
  name: string,
  check: () => Promise<void>,
): Promise<[string, { ok: boolean; detail?: string }]> {
  try {
    await check();
    return [name, { ok: true }];
  } catch (error) {
    return [name, { ok: false, detail: error instanceof Error ? error.message : String(error) }];
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no response within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
