import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { inTenantTransaction, sessionStateKeys } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { Session } from '../../entities/session.js';
import { createPlatformOperator } from '../../platform/operators.js';
import { PasswordHasher } from '../../users/passwords.js';
import {
  GOOD_PASSWORD,
  randomEmail,
  randomSlug,
  startTestIdentity,
  type TestIdentity,
} from '../../testing/harness.js';

const LOGIN =
  'mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresAt principalId principalType user { id } } }';
const CREATE_USER = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }';

describe('login', () => {
  let t: TestIdentity;

  before(async () => {
    t = await startTestIdentity();
  });

  after(async () => {
    await t?.stop();
  });

  test('login by email', async () => {
    const tenant = await t.createTenant();

    const result = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    assert.equal(result.user?.id, tenant.adminUserId);
    const claims = decodeJwt(result.accessToken);
    assert.equal(claims.sub, tenant.adminUserId);
    assert.equal(claims.tid, tenant.id);
    assert.equal(claims.typ, 'user');
    assert.equal(claims.iss, t.config.HMS_JWT_ISSUER);
    assert.equal(claims.aud, t.config.HMS_JWT_AUDIENCE);
    assert.deepEqual(claims.roles, ['tenant_admin']);
    assert.ok((claims.perms as string[]).includes('user:manage'));
    assert.equal(typeof claims.sid, 'string');
    assert.equal(typeof claims.jti, 'string');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), t.config.HMS_ACCESS_TOKEN_TTL_SECONDS);
  });

  test('login by phone', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    // An admin creates a user who has only a phone number.
    const created = await t.gql<{ createUser: { id: string } }>(
      CREATE_USER,
      {
        input: {
          displayName: 'Ravi Kumar',
          phone: '+919812345678',
          password: GOOD_PASSWORD,
          roles: ['nurse'],
        },
      },
      admin.accessToken,
    );
    assert.deepEqual(created.errors, undefined);

    // The user signs in with the phone number, written with spaces as people type it.
    const result = await t.login({
      tenantSlug: tenant.slug,
      phone: '+91 98123 45678',
      password: GOOD_PASSWORD,
    });

    assert.equal(result.user?.id, created.data?.createUser.id);
    assert.deepEqual(decodeJwt(result.accessToken).roles, ['nurse']);
  });

  test('login email ignores case', async () => {
    const tenant = await t.createTenant();

    const result = await t.login({
      tenantSlug: tenant.slug.toUpperCase(),
      email: tenant.adminEmail.toUpperCase(),
      password: tenant.adminPassword,
    });

    assert.equal(result.user?.id, tenant.adminUserId);
  });

  test('failures share one error', async () => {
    const tenant = await t.createTenant();
    const attempts = [
      { tenantSlug: tenant.slug, email: tenant.adminEmail, password: 'wrong password entirely' },
      { tenantSlug: tenant.slug, email: randomEmail('nobody'), password: tenant.adminPassword },
      { tenantSlug: randomSlug('missing'), email: tenant.adminEmail, password: tenant.adminPassword },
      { tenantSlug: tenant.slug, email: 'not an email', password: tenant.adminPassword },
    ];

    const responses = await Promise.all(attempts.map((input) => t.gql(LOGIN, { input })));

    for (const response of responses) {
      assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
      assert.equal(response.errors?.[0]?.message, 'Invalid credentials');
      assert.equal(response.data, null);
    }
  });

  test('lockout after failed attempts', async () => {
    const tenant = await t.createTenant();
    const wrong = { tenantSlug: tenant.slug, email: tenant.adminEmail, password: 'wrong password entirely' };
    const right = { tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword };

    // Four failures stay under the default threshold of five: the right password still works.
    for (let attempt = 0; attempt < 4; attempt += 1) await t.gql(LOGIN, { input: wrong });
    assert.deepEqual(errorCodes(await t.gql(LOGIN, { input: right })), []);

    // The success reset the count, so five more failures are needed to lock the account.
    for (let attempt = 0; attempt < 5; attempt += 1) await t.gql(LOGIN, { input: wrong });

    // Now the right password fails too, with the same message as any other failure.
    const locked = await t.gql(LOGIN, { input: right });
    assert.deepEqual(errorCodes(locked), ['UNAUTHENTICATED']);
    assert.equal(locked.errors?.[0]?.message, 'Invalid credentials');
  });

  test('deactivated user cannot log in', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const email = randomEmail('doctor');
    const created = await t.gql<{ createUser: { id: string } }>(
      CREATE_USER,
      { input: { displayName: 'Dr. Meera Iyer', email, password: GOOD_PASSWORD, roles: ['doctor'] } },
      admin.accessToken,
    );
    const doctorId = created.data?.createUser.id;

    // The doctor signs in, then the admin deactivates the account.
    const doctor = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });
    const deactivated = await t.gql(
      'mutation ($id: ID!) { deactivateUser(id: $id, reason: "left") { status } }',
      { id: doctorId },
      admin.accessToken,
    );
    assert.deepEqual(deactivated.data, { deactivateUser: { status: 'DEACTIVATED' } });

    // A new sign-in fails like a wrong password.
    const response = await t.gql(LOGIN, {
      input: { tenantSlug: tenant.slug, email, password: GOOD_PASSWORD },
    });
    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);

    // The session opened before deactivation is revoked in Redis and its tokens stop working.
    const sid = String(decodeJwt(doctor.accessToken).sid);
    assert.equal(await t.redis.exists(sessionStateKeys.revokedSession(tenant.id, sid)), 1);
    const me = await t.gql('{ me { id } }', {}, doctor.accessToken);
    assert.deepEqual(errorCodes(me), ['UNAUTHENTICATED']);
    const refreshed = await t.gql(
      'mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken } }',
      { token: doctor.refreshToken },
    );
    assert.deepEqual(errorCodes(refreshed), ['UNAUTHENTICATED']);
  });

  test('suspended tenant cannot log in', async () => {
    const operator = await t.operatorToken();
    const tenant = await t.createTenant(operator);
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    // A platform operator suspends the tenant.
    const suspended = await t.gql(
      'mutation ($id: ID!) { setTenantStatus(id: $id, status: SUSPENDED, reason: "unpaid invoices") { status } }',
      { id: tenant.id },
      operator,
    );
    assert.deepEqual(suspended.data, { setTenantStatus: { status: 'SUSPENDED' } });

    // Redis, which the gateway reads on every request, has the new status at once.
    assert.equal(await t.redis.get(sessionStateKeys.tenantStatus(tenant.id)), 'suspended');

    // Sign-in with the right password fails with TENANT_SUSPENDED.
    const response = await t.gql(LOGIN, {
      input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword },
    });
    assert.deepEqual(errorCodes(response), ['TENANT_SUSPENDED']);

    // So is a refresh of a session opened before the suspension.
    const refreshed = await t.gql(
      'mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken } }',
      { token: admin.refreshToken },
    );
    assert.deepEqual(errorCodes(refreshed), ['TENANT_SUSPENDED']);
  });

  test('suspended tenant hidden from wrong password', async () => {
    const operator = await t.operatorToken();
    const tenant = await t.createTenant(operator);
    await t.gql(
      'mutation ($id: ID!) { setTenantStatus(id: $id, status: SUSPENDED, reason: "audit") { id } }',
      { id: tenant.id },
      operator,
    );

    const response = await t.gql(LOGIN, {
      input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: 'wrong password entirely' },
    });

    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
  });

  test('platform operator token claims', async () => {
    const email = randomEmail('operator');
    await createPlatformOperator(t.identity.services.deps.orm, new PasswordHasher(), {
      email,
      password: 'operator password that is long',
      name: 'Op',
    });

    const response = await t.gql<{
      login: { accessToken: string; principalType: string; user: null; principalId: string };
    }>(LOGIN, {
      input: { email, password: 'operator password that is long' },
    });

    const payload = response.data?.login;
    assert.equal(payload?.principalType, 'PLATFORM_OPERATOR');
    assert.equal(payload?.user, null);
    const claims = decodeJwt(payload?.accessToken ?? '');
    assert.equal(claims.typ, 'platform');
    assert.equal(claims.tid, undefined);
    assert.equal(claims.sub, payload?.principalId);
    assert.deepEqual(claims.roles, ['platform_operator']);
    assert.deepEqual(claims.perms, ['tenant:create', 'tenant:read', 'tenant:manage']);
  });

  test('session records client headers', async () => {
    const tenant = await t.createTenant();

    const response = await t.gql<{ login: { accessToken: string } }>(
      LOGIN,
      { input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword } },
      undefined,
      { 'x-hms-client-ip': '203.0.113.7', 'x-hms-user-agent': 'HMS Desktop/1.2' },
    );

    const sid = String(decodeJwt(response.data?.login.accessToken ?? '').sid);
    const session = await inTenantTransaction(t.identity.services.deps.orm, tenant.id, (em) =>
      em.findOneOrFail(Session, { id: sid }),
    );
    assert.equal(session.ipAddress, '203.0.113.7');
    assert.equal(session.userAgent, 'HMS Desktop/1.2');
  });
});
