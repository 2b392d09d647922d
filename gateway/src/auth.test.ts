import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { sessionStateKeys } from '@hms/service-kit/auth/session-state';
import type { RunningGateway } from './gateway.js';
import { AUDIENCE, call, firstCode, Harness, ISSUER } from './test-support/harness.js';

const ME = '{ me { id } }';
const LOGIN = 'mutation { login(email: "doctor@example.test", password: "secret") { accessToken } }';

let harness: Harness;
let gateway: RunningGateway;

before(async () => {
  harness = await Harness.start();
  gateway = await harness.startGateway();
});
afterEach(() => harness.cleanKeys());
after(() => harness.close());

describe('valid tokens', () => {
  test('a valid tenant token reaches the subgraph', async () => {
    const tenant = await harness.newTenant();
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.errors, undefined);
    assert.deepEqual(answer.body.data, { me: { id: 'user-1' } });
  });

  test('a platform operator token without a tenant is accepted', async () => {
    const token = await harness.platformToken();
    const answer = await call(gateway.url, { query: ME, token });
    assert.equal(answer.body.errors, undefined);
  });
});

describe('anonymous requests', () => {
  test('a request without a token is UNAUTHENTICATED', async () => {
    const answer = await call(gateway.url, { query: ME, clientIp: harness.newClientIp() });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('UNAUTHENTICATED is answered with HTTP 401 and no data', async () => {
    const answer = await call(gateway.url, { query: ME, clientIp: harness.newClientIp() });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.data, undefined);
  });

  test('login works without a token', async () => {
    const answer = await call(gateway.url, { query: LOGIN, clientIp: harness.newClientIp() });
    assert.deepEqual(answer.body.data, { login: { accessToken: 'issued-by-identity' } });
  });

  test('refreshSession works without a token', async () => {
    const answer = await call(gateway.url, {
      query: 'mutation { refreshSession(refreshToken: "r") { accessToken } }',
      clientIp: harness.newClientIp(),
    });
    assert.deepEqual(answer.body.data, { refreshSession: { accessToken: 'refreshed-by-identity' } });
  });

  test('__typename alone works without a token', async () => {
    const answer = await call(gateway.url, { query: '{ __typename }', clientIp: harness.newClientIp() });
    assert.deepEqual(answer.body.data, { __typename: 'Query' });
  });

  test('login with a stale token still works, and the token is not forwarded', async () => {
    const requestId = randomUUID();
    const answer = await call(gateway.url, {
      query: LOGIN,
      token: 'not-a-jwt',
      clientIp: harness.newClientIp(),
      headers: { 'x-request-id': requestId },
    });
    assert.equal(answer.body.errors, undefined);
    assert.equal(harness.receivedFor(requestId)[0]?.headers.authorization, undefined);
  });

  test('an allow-listed field next to another root field needs a token', async () => {
    const answer = await call(gateway.url, {
      query:
        'mutation { login(email: "a", password: "b") { accessToken } registerPatient(name: "x") { id } }',
      clientIp: harness.newClientIp(),
    });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('an alias named login needs a token', async () => {
    const answer = await call(gateway.url, {
      query: 'query { login: me { id } }',
      clientIp: harness.newClientIp(),
    });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a stranger gets UNAUTHENTICATED, not validation errors that describe the schema', async () => {
    const answer = await call(gateway.url, {
      query: '{ patients { secretField } }',
      clientIp: harness.newClientIp(),
    });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a signed-in caller gets the validation error', async () => {
    const tenant = await harness.newTenant();
    const answer = await call(gateway.url, {
      query: '{ patients { secretField } }',
      token: await tenant.token(),
    });
    assert.equal(firstCode(answer), 'GRAPHQL_VALIDATION_FAILED');
  });
});

describe('rejected tokens', () => {
  test('a token signed with a key the JWKS does not publish is rejected', async () => {
    const tenant = await harness.newTenant();
    const answer = await call(gateway.url, {
      query: ME,
      token: await tenant.token({}, { key: harness.foreignKey }),
    });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a token with a tampered payload is rejected', async () => {
    const tenant = await harness.newTenant();
    const other = await harness.newTenant();
    const [header, , signature] = (await tenant.token()).split('.');
    const payload = Buffer.from(
      JSON.stringify({
        tid: other.id,
        typ: 'user',
        sid: 's',
        roles: [],
        perms: [],
        iss: 'x',
        aud: 'y',
        sub: 'z',
      }),
    ).toString('base64url');
    const answer = await call(gateway.url, { query: ME, token: `${header}.${payload}.${signature}` });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('an expired token is rejected', async () => {
    const tenant = await harness.newTenant();
    const now = Math.floor(Date.now() / 1000);
    const token = await tenant.token({}, { issuedAt: now - 600, expiresAt: now - 60 });
    const answer = await call(gateway.url, { query: ME, token });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('an unsigned token (alg none) is rejected', async () => {
    const tenant = await harness.newTenant();
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({
      iss: 'https://identity.hms.test',
      aud: 'hms-graph',
      sub: 'user-1',
      tid: tenant.id,
      sid: randomUUID(),
      typ: 'user',
      roles: ['tenant_admin'],
      perms: ['patient:read'],
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
    })}.`;
    const answer = await call(gateway.url, { query: ME, token });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a token for another audience is rejected', async () => {
    const tenant = await harness.newTenant();
    const answer = await call(gateway.url, {
      query: ME,
      token: await tenant.token({}, { audience: 'another-api' }),
    });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a token from another issuer is rejected', async () => {
    const tenant = await harness.newTenant();
    const answer = await call(gateway.url, {
      query: ME,
      token: await tenant.token({}, { issuer: 'https://evil.example' }),
    });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a user token without a tenant claim is rejected', async () => {
    const token = await harness.sign({ typ: 'user' });
    const answer = await call(gateway.url, { query: ME, token });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a service token without a tenant claim is rejected', async () => {
    const token = await harness.sign({ typ: 'service' });
    const answer = await call(gateway.url, { query: ME, token });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('an Authorization header that is not a Bearer token is rejected', async () => {
    const answer = await call(gateway.url, { query: ME, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('a rejected token never reaches a subgraph', async () => {
    const requestId = randomUUID();
    const tenant = await harness.newTenant();
    await call(gateway.url, {
      query: ME,
      token: await tenant.token({}, { key: harness.foreignKey }),
      headers: { 'x-request-id': requestId },
    });
    assert.equal(harness.receivedFor(requestId).length, 0);
  });
});

describe('tenant status', () => {
  test('a suspended tenant gets TENANT_SUSPENDED as soon as the Redis key changes', async () => {
    const tenant = await harness.newTenant();
    const token = await tenant.token();
    const before = await call(gateway.url, { query: ME, token });
    assert.equal(before.body.errors, undefined);
    await harness.redis.set(sessionStateKeys.tenantStatus(tenant.id), 'suspended');
    const afterwards = await call(gateway.url, { query: ME, token });
    assert.equal(firstCode(afterwards), 'TENANT_SUSPENDED');
  });

  test('TENANT_SUSPENDED is answered with HTTP 403', async () => {
    const tenant = await harness.newTenant('suspended');
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(answer.status, 403);
  });

  test('an offboarded tenant gets TENANT_SUSPENDED', async () => {
    const tenant = await harness.newTenant('offboarded');
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(firstCode(answer), 'TENANT_SUSPENDED');
  });

  test('without a Redis entry identity is asked, and its answer is served', async () => {
    const tenant = await harness.newTenant(null);
    harness.identityAnswers.set(tenant.id, { status: 200, body: { status: 'active' } });
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(answer.body.errors, undefined);
  });

  test("identity's answer is cached in Redis with an expiry", async () => {
    const tenant = await harness.newTenant(null);
    harness.identityAnswers.set(tenant.id, { status: 200, body: { status: 'active' } });
    await call(gateway.url, { query: ME, token: await tenant.token() });
    const ttl = await harness.redis.ttl(sessionStateKeys.tenantStatus(tenant.id));
    assert.ok(ttl > 0, `TTL ${ttl}`);
    assert.ok(ttl <= 300, `TTL ${ttl}`);
  });

  test('a cached answer spares the next request a call to identity', async () => {
    const tenant = await harness.newTenant(null);
    harness.identityAnswers.set(tenant.id, { status: 200, body: { status: 'active' } });
    const token = await tenant.token();
    await call(gateway.url, { query: ME, token });
    const calls = harness.identityCalls;
    await call(gateway.url, { query: ME, token });
    assert.equal(harness.identityCalls, calls);
  });

  test('identity saying suspended gives TENANT_SUSPENDED', async () => {
    const tenant = await harness.newTenant(null);
    harness.identityAnswers.set(tenant.id, { status: 200, body: { status: 'suspended' } });
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(firstCode(answer), 'TENANT_SUSPENDED');
  });

  test('unknown tenant status is rejected', async () => {
    const tenant = await harness.newTenant(null);
    harness.identityAnswers.set(tenant.id, { status: 500, body: { error: 'down' } });
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(answer.status, 503);
  });

  test('a failing status lookup leaves no data in the answer', async () => {
    const tenant = await harness.newTenant(null);
    harness.identityAnswers.set(tenant.id, { status: 500, body: { error: 'down' } });
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(answer.body.data, undefined);
  });

  test('a tenant identity does not know is UNAUTHENTICATED', async () => {
    const tenant = await harness.newTenant(null);
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });
});

describe('sessions', () => {
  test('a revoked session is UNAUTHENTICATED', async () => {
    const tenant = await harness.newTenant();
    const sid = randomUUID();
    const token = await tenant.token({ sid });
    await harness.redis.set(sessionStateKeys.revokedSession(tenant.id, sid), '1', 'EX', 600);
    const answer = await call(gateway.url, { query: ME, token });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });

  test('revoking one session leaves the others of the tenant working', async () => {
    const tenant = await harness.newTenant();
    await harness.redis.set(sessionStateKeys.revokedSession(tenant.id, randomUUID()), '1', 'EX', 600);
    const answer = await call(gateway.url, { query: ME, token: await tenant.token() });
    assert.equal(answer.body.errors, undefined);
  });

  test('a revoked platform operator session is UNAUTHENTICATED', async () => {
    const sid = randomUUID();
    const key = sessionStateKeys.revokedPlatformSession(sid);
    harness.trackKey(key);
    await harness.redis.set(key, '1', 'EX', 600);
    const answer = await call(gateway.url, { query: ME, token: await harness.platformToken({ sid }) });
    assert.equal(firstCode(answer), 'UNAUTHENTICATED');
  });
});

describe('unreachable signing keys', () => {
  test('unreachable JWKS answers 503, not 401', async () => {
    const tenant = await harness.newTenant();
    const token = await tenant.token();
    const isolated = await harness.startGateway({
      jwt: { jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json', issuer: ISSUER, audience: AUDIENCE },
    });
    try {
      const answer = await call(isolated.url, { query: ME, token });
      assert.equal(answer.status, 503);
      assert.equal(firstCode(answer), 'INTERNAL_SERVER_ERROR');
    } finally {
      await isolated.stop();
    }
  });
});
