import type { Principal } from '@hms/service-kit/auth/claims';
import { HmsError } from '@hms/service-kit/errors';
import type { Redis } from 'ioredis';
import type { RateLimits } from './config.js';
import { serviceUnavailable, withHttpStatus } from './errors.js';

/**
 * Rate-limit counters in Redis. Tenant buckets start with the tenant id like every tenant key.
 * Callers without a tenant (platform operators, anonymous clients) use the `platform:` and
 * `anonymous:` prefixes, which cannot collide with tenant ids because tenant ids are UUIDs.
 */
export const rateLimitKeys = {
  user: (tenantId: string, subject: string) => `${tenantId}:ratelimit:user:${subject}`,
  tenant: (tenantId: string) => `${tenantId}:ratelimit:tenant`,
  platformUser: (subject: string) => `platform:ratelimit:user:${subject}`,
  anonymousIp: (ip: string) => `anonymous:ratelimit:ip:${ip}`,
  loginIp: (ip: string) => `anonymous:ratelimit:login:${ip}`,
};

/**
 * Fixed window: the first request creates the counter with the window as its TTL, so the window
 * starts with the caller's first request and the key removes itself. The TTL repair covers a counter
 * that lost its expiry, which would otherwise block the caller for good.
 */
const FIXED_WINDOW_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

interface Bucket {
  key: string;
  limit: number;
  /** Says who is limited, for the error message. */
  label: string;
}

type RedisWithRateLimit = Redis & {
  hmsFixedWindow(key: string, windowSeconds: number): Promise<[number, number]>;
};

export class RateLimiter {
  private readonly redis: RedisWithRateLimit;

  constructor(
    redis: Redis,
    private readonly limits: RateLimits,
  ) {
    // defineCommand sends the script once and then calls it by its SHA.
    redis.defineCommand('hmsFixedWindow', { numberOfKeys: 1, lua: FIXED_WINDOW_SCRIPT });
    this.redis = redis as RedisWithRateLimit;
  }

  /** Counts a request of a signed-in caller against the caller's bucket and the tenant's bucket. */
  async checkPrincipal(principal: Principal): Promise<void> {
    const tenantId = principal.tenantId;
    if (!tenantId) {
      return this.check([
        {
          key: rateLimitKeys.platformUser(principal.subject),
          limit: this.limits.perUser,
          label: 'this operator',
        },
      ]);
    }
    return this.check([
      {
        key: rateLimitKeys.user(tenantId, principal.subject),
        limit: this.limits.perUser,
        label: 'this user',
      },
      { key: rateLimitKeys.tenant(tenantId), limit: this.limits.perTenant, label: 'this tenant' },
    ]);
  }

  /** Counts an anonymous request against its client IP; `login` also counts against a much smaller bucket. */
  async checkAnonymous(clientIp: string, isLogin: boolean): Promise<void> {
    const buckets: Bucket[] = [
      { key: rateLimitKeys.anonymousIp(clientIp), limit: this.limits.anonymousPerIp, label: 'this address' },
    ];
    if (isLogin) {
      buckets.push({
        key: rateLimitKeys.loginIp(clientIp),
        limit: this.limits.loginPerIp,
        label: 'sign-ins from this address',
      });
    }
    return this.check(buckets);
  }

  private async check(buckets: Bucket[]): Promise<void> {
    let results: Array<[number, number]>;
    try {
      results = await Promise.all(
        buckets.map((bucket) => this.redis.hmsFixedWindow(bucket.key, this.limits.windowSeconds)),
      );
    } catch (error) {
      // Without the counters there is no protection against password guessing or floods: fail closed.
      throw serviceUnavailable('Cannot check the rate limit; try again shortly.', error);
    }
    let exceeded: { bucket: Bucket; retryAfter: number } | undefined;
    buckets.forEach((bucket, index) => {
      const [count, ttl] = results[index]!;
      if (count > bucket.limit) {
        const retryAfter = Math.max(1, ttl);
        if (!exceeded || retryAfter > exceeded.retryAfter) exceeded = { bucket, retryAfter };
      }
    });
    if (exceeded) {
      const { bucket, retryAfter } = exceeded;
      throw withHttpStatus(
        HmsError.rateLimited(
          `Too many requests for ${bucket.label}: at most ${bucket.limit} per ${this.limits.windowSeconds} s. Retry after ${retryAfter} s.`,
          retryAfter,
        ),
        429,
        { 'retry-after': String(retryAfter) },
      );
    }
  }
}
