import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Opens a Redis client that fails commands fast while Redis is unreachable instead of queueing them. */
export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5_000 });
  let lastErrorLoggedAt = 0;
  redis.on('error', (error) => {
    // ioredis emits an error on every reconnect attempt; one line per 30 s is enough to diagnose.
    const now = Date.now();
    if (now - lastErrorLoggedAt > 30_000) {
      lastErrorLoggedAt = now;
      logger.warn({ err: error }, 'Redis connection failed; ioredis keeps reconnecting.');
    }
  });
  return redis;
}

export type { Redis };
