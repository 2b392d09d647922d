import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { RunningGateway } from './gateway.js';
import { rateLimitKeys } from './rate-limit.js';
import { call, firstCode, Harness, type GraphQLAnswer } from './test-support/harness.js';

const ME = '{ me { id } }';
const LOGIN = 'mutation { login(email: "doctor@example.test", password: "guess") { accessToken } }';

let harness: Harness;
let gateway: RunningGateway;

before(async () => {
  harness = await Harness.start();
  gateway = await harness.startGateway({
    rateLimits: { windowSeconds: 60, perUser: 3, perTenant: 5, anonymousPerIp: 4, loginPerIp: 2 },
  });
});
afterEach(() => harness.cleanKeys());
after(() => harness.close());

/** Sends the same request `times` times and returns the last response. */
async function repeat(times: number, send: () => Promise<GraphQLAnswer>): Promise<GraphQLAnswer> {
  let last: GraphQLAnswer | undefined;
  for (let i = 0; i < times; i += 1) last = await send();
  return last!;
}

describe('rate limits', () => {
  test('requests up to the per-user limit are served', async () => {
    const token = await (await harness.newTenant()).token();
    const answer = await repeat(3, () => call(gateway.url, { query: ME, token }));
    assert.equal(answer.body.errors, undefined);
  });

  test('the request after the per-user limit is RATE_LIMITED', async () => {
    const token = await (await harness.newTenant()).token();
    const answer = await repeat(4, () => call(gateway.url, { query: ME, token }));
    assert.equal(firstCode(answer), 'RATE_LIMITED');
  });

  test('RATE_LIMITED says when to retry', async () => {
    const token = await (await harness.newTenant()).token();
    const answer = await repeat(4, () => call(gateway.url, { query: ME, token }));
    const retryAfter = answer.body.errors?.[0]?.extensions?.retryAfterSeconds;
    assert.equal(typeof retryAfter, 'number');
    assert.ok((retryAfter as number) > 0, `retryAfterSeconds ${retryAfter}`);
    assert.ok((retryAfter as number) <= 60, `retryAfterSeconds ${retryAfter}`);
  });

  test('RATE_LIMITED is answered with HTTP 429 and a Retry-After header', async () => {
    const token = await (await harness.newTenant()).token();
    const answer = await repeat(4, () => call(gateway.url, { query: ME, token }));
    assert.equal(answer.status, 429);
    assert.ok(Number(answer.headers.get('retry-after')) > 0);
  });

  test('one user hitting the limit leaves another user of the tenant alone', async () => {
    const tenant = await harness.newTenant();
    const busy = await tenant.token({ sub: 'busy-user' });
    await repeat(4, () => call(gateway.url, { query: ME, token: busy }));
    const answer = await call(gateway.url, { query: ME, token: await tenant.token({ sub: 'calm-user' }) });
    assert.equal(answer.body.errors, undefined);
  });

  test('the tenant limit covers all users of the tenant together', async () => {
    const tenant = await harness.newTenant();
    for (const user of ['a', 'b']) {
      const token = await tenant.token({ sub: `user-${user}` });
      await repeat(3, () => call(gateway.url, { query: ME, token }));
    }
    const answer = await call(gateway.url, { query: ME, token: await tenant.token({ sub: 'user-c' }) });
    assert.equal(firstCode(answer), 'RATE_LIMITED');
  });

  test('rate-limit keys start with the tenant id', async () => {
    const tenant = await harness.newTenant();
    await call(gateway.url, { query: ME, token: await tenant.token({ sub: 'user-k' }) });
    const keys = await harness.redis.keys(`${tenant.id}:ratelimit:*`);
    assert.deepEqual(
      keys.sort(),
      [rateLimitKeys.tenant(tenant.id), rateLimitKeys.user(tenant.id, 'user-k')].sort(),
    );
  });

  test('the counters expire with the window', async () => {
    const tenant = await harness.newTenant();
    await call(gateway.url, { query: ME, token: await tenant.token({ sub: 'user-t' }) });
    const ttl = await harness.redis.ttl(rateLimitKeys.user(tenant.id, 'user-t'));
    assert.ok(ttl > 0, `TTL ${ttl}`);
    assert.ok(ttl <= 60, `TTL ${ttl}`);
  });

  test('login is limited per client address more strictly than other anonymous requests', async () => {
    const clientIp = harness.newClientIp();
    const answer = await repeat(3, () => call(gateway.url, { query: LOGIN, clientIp }));
    assert.equal(firstCode(answer), 'RATE_LIMITED');
  });

  test('another address can still sign in', async () => {
    const busy = harness.newClientIp();
    await repeat(3, () => call(gateway.url, { query: LOGIN, clientIp: busy }));
    const answer = await call(gateway.url, { query: LOGIN, clientIp: harness.newClientIp() });
    assert.equal(answer.body.errors, undefined);
  });

  test('anonymous requests are limited per client address', async () => {
    const clientIp = harness.newClientIp();
    const answer = await repeat(5, () => call(gateway.url, { query: '{ __typename }', clientIp }));
    assert.equal(firstCode(answer), 'RATE_LIMITED');
  });
});
