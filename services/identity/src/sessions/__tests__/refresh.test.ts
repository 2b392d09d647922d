import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { sessionStateKeys } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startTestIdentity, type TestIdentity } from '../../testing/harness.js';

const REFRESH =
  'mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken expiresAt user { id } } }';

interface Pair {
  accessToken: string;
  refreshToken: string;
  user: { id: string } | null;
}

describe('refresh and logout', () => {
  let t: TestIdentity;

  before(async () => {
    t = await startTestIdentity();
  });

  after(async () => {
    await t?.stop();
  });

  const refresh = (token: string) => t.gql<{ refreshSession: Pair }>(REFRESH, { token });

  test('refresh rotates the pair', async () => {
    const tenant = await t.createTenant();
    const first = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const response = await refresh(first.refreshToken);

    const second = response.data?.refreshSession;
    assert.ok(second);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(second.user?.id, tenant.adminUserId);
    assert.ok(second.refreshToken.startsWith(`${tenant.id}.`));
    assert.equal(decodeJwt(second.accessToken).sid, decodeJwt(first.accessToken).sid);
    const me = await t.gql<{ me: { id: string } }>('{ me { id } }', {}, second.accessToken);
    assert.equal(me.data?.me.id, tenant.adminUserId);
  });

  test('reused refresh token revokes session', async () => {
    const tenant = await t.createTenant();
    const first = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const sid = String(decodeJwt(first.accessToken).sid);

    // The legitimate client refreshes and gets a new pair.
    const rotated = (await refresh(first.refreshToken)).data?.refreshSession;
    assert.ok(rotated);

    // Someone presents the old refresh token again: refused.
    const replay = await refresh(first.refreshToken);
    assert.deepEqual(errorCodes(replay), ['UNAUTHENTICATED']);

    // The whole session is gone: the newest refresh token fails too.
    const afterReplay = await refresh(rotated.refreshToken);
    assert.deepEqual(errorCodes(afterReplay), ['UNAUTHENTICATED']);

    // Redis marks the session revoked, for as long as an access token of it could live.
    const key = sessionStateKeys.revokedSession(tenant.id, sid);
    assert.equal(await t.redis.exists(key), 1);
    const ttl = await t.redis.ttl(key);
    assert.ok(ttl > t.config.HMS_ACCESS_TOKEN_TTL_SECONDS - 5);

    // And the access tokens of the session are refused by identity.
    const me = await t.gql('{ me { id } }', {}, rotated.accessToken);
    assert.deepEqual(errorCodes(me), ['UNAUTHENTICATED']);
  });

  test('logout revokes the session', async () => {
    const tenant = await t.createTenant();
    const session = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const sid = String(decodeJwt(session.accessToken).sid);

    const response = await t.gql('mutation { logout }', {}, session.accessToken);

    assert.deepEqual(response.data, { logout: true });
    assert.equal(await t.redis.exists(sessionStateKeys.revokedSession(tenant.id, sid)), 1);
    assert.deepEqual(errorCodes(await refresh(session.refreshToken)), ['UNAUTHENTICATED']);
    assert.deepEqual(errorCodes(await t.gql('{ me { id } }', {}, session.accessToken)), ['UNAUTHENTICATED']);
  });

  test('logout leaves other sessions', async () => {
    const tenant = await t.createTenant();
    const credentials = { tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword };
    const laptop = await t.login(credentials);
    const phone = await t.login(credentials);

    await t.gql('mutation { logout }', {}, laptop.accessToken);

    const refreshed = await refresh(phone.refreshToken);
    assert.deepEqual(errorCodes(refreshed), []);
  });

  test('platform operator refresh and logout', async () => {
    const operatorToken = await t.operatorToken();
    const sid = String(decodeJwt(operatorToken).sid);

    await t.gql('mutation { logout }', {}, operatorToken);

    assert.equal(await t.redis.exists(sessionStateKeys.revokedPlatformSession(sid)), 1);
    assert.deepEqual(errorCodes(await t.gql('{ tenants { totalCount } }', {}, operatorToken)), [
      'UNAUTHENTICATED',
    ]);
  });

  test('malformed refresh tokens refused', async () => {
    const tenant = await t.createTenant();
    const tokens = [
      '',
      'garbage',
      `${tenant.id}.short`,
      `not-a-uuid.${'a'.repeat(43)}`,
      `${tenant.id}.${'a'.repeat(43)}`,
      `platform.${'b'.repeat(43)}`,
    ];

    for (const token of tokens) {
      assert.deepEqual(
        errorCodes(await refresh(token)),
        ['UNAUTHENTICATED'],
        `token ${JSON.stringify(token)}`,
      );
    }
  });

  test('refresh picks up role changes', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    // The admin gives themselves the doctor role in addition to tenant_admin.
    await t.gql(
      'mutation ($id: ID!) { setUserRoles(id: $id, roles: ["tenant_admin", "doctor"]) { roles } }',
      { id: tenant.adminUserId },
      admin.accessToken,
    );

    const refreshed = (await refresh(admin.refreshToken)).data?.refreshSession;
    const claims = decodeJwt(refreshed?.accessToken ?? '');
    assert.deepEqual(claims.roles, ['doctor', 'tenant_admin']);
    assert.ok((claims.perms as string[]).includes('note:write'));
  });
});
