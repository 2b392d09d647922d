import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from 'jose';
import { newId } from '@hms/service-kit';
import pg from 'pg';
import { errorCodes } from '@hms/test-kit';
import { KeyDecryptionError } from '../encryption.js';
import { KeyRing } from '../key-ring.js';
import { startTestIdentity, type TestIdentity } from '../../testing/harness.js';

describe('signing keys and token verification', () => {
  let t: TestIdentity;

  before(async () => {
    t = await startTestIdentity();
  });

  after(async () => {
    await t?.stop();
  });

  const jwks = async () => {
    const response = await fetch(`${t.identity.origin}/.well-known/jwks.json`);
    return { response, body: (await response.json()) as JSONWebKeySet };
  };

  /** Signs a token with identity's own active key, so only the tampered claim or header is wrong. */
  const signWithIdentityKey = async (
    claims: Record<string, unknown>,
    options: { expiresAt?: number; audience?: string } = {},
  ) => {
    const { kid, key } = await t.identity.services.keys.activeSigningKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      typ: 'user',
      roles: ['tenant_admin'],
      perms: ['user:read'],
      sid: newId(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setIssuer(t.config.HMS_JWT_ISSUER)
      .setAudience(options.audience ?? t.config.HMS_JWT_AUDIENCE)
      .setSubject(String(claims.sub ?? newId()))
      .setJti(newId())
      .setIssuedAt(now - 3600)
      .setExpirationTime(options.expiresAt ?? now + 300)
      .sign(key);
  };

  test('jwks serves the active key', async () => {
    const tenant = await t.createTenant();
    const login = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const { response, body } = await jwks();

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=300');
    const kid = decodeProtectedHeader(login.accessToken).kid;
    const key = body.keys.find((candidate) => candidate.kid === kid);
    assert.equal(key?.alg, 'EdDSA');
    assert.equal(key?.crv, 'Ed25519');
    assert.equal(key?.use, 'sig');
    assert.equal(key?.d, undefined);
    const verified = await jwtVerify(login.accessToken, createLocalJWKSet(body), {
      issuer: t.config.HMS_JWT_ISSUER,
      audience: t.config.HMS_JWT_AUDIENCE,
    });
    assert.equal(verified.payload.sub, tenant.adminUserId);
  });

  test('rotation publishes both keys', async () => {
    const operator = await t.operatorToken();
    const tenant = await t.createTenant(operator);
    const before = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const oldKid = decodeProtectedHeader(before.accessToken).kid;

    // An operator rotates the signing key.
    const rotated = await t.gql<{ rotateSigningKey: { kid: string; retiredAt: string | null } }>(
      'mutation { rotateSigningKey { kid retiredAt } }',
      {},
      operator,
    );
    const newKid = rotated.data?.rotateSigningKey.kid;
    assert.notEqual(newKid, oldKid);
    assert.equal(rotated.data?.rotateSigningKey.retiredAt, null);

    // The JWKS publishes the new key and still the old one.
    const kids = (await jwks()).body.keys.map((key) => key.kid);
    assert.ok(kids.includes(newKid));
    assert.ok(kids.includes(oldKid));

    // A token signed before the rotation still works; a new sign-in uses the new key.
    const me = await t.gql<{ me: { id: string } }>('{ me { id } }', {}, before.accessToken);
    assert.equal(me.data?.me.id, tenant.adminUserId);
    const after = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    assert.equal(decodeProtectedHeader(after.accessToken).kid, newKid);
  });

  test('concurrent starts create one key', async () => {
    const { deps } = t.identity.services;

    // No key is active, as on a fresh database; the retired one stays published.
    const admin = new pg.Client({ connectionString: t.database.adminUrl });
    await admin.connect();
    try {
      await admin.query('update identity.signing_keys set retired_at = now() where retired_at is null');

      // Two instances start at once.
      const rings = [1, 2].map(
        () =>
          new KeyRing(
            deps.orm,
            t.config.HMS_IDENTITY_KEY_ENCRYPTION_KEY,
            t.config.HMS_ACCESS_TOKEN_TTL_SECONDS,
            deps.logger,
          ),
      );
      const kids = await Promise.all(rings.map((ring) => ring.ensureActiveKey()));

      assert.equal(kids[0], kids[1]);
      const active = await admin.query<{ count: number }>(
        'select count(*)::int as count from identity.signing_keys where retired_at is null',
      );
      assert.equal(active.rows[0]?.count, 1);
    } finally {
      await admin.end();
    }
  });

  test('wrong encryption key fails the start', async () => {
    const { deps } = t.identity.services;
    const ring = new KeyRing(
      deps.orm,
      Buffer.alloc(32, 7),
      t.config.HMS_ACCESS_TOKEN_TTL_SECONDS,
      deps.logger,
    );

    await assert.rejects(ring.ensureActiveKey(), KeyDecryptionError);
  });

  test('tenant users cannot rotate keys', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const response = await t.gql('mutation { rotateSigningKey { kid } }', {}, admin.accessToken);

    assert.deepEqual(errorCodes(response), ['FORBIDDEN']);
  });

  test('forged signature rejected', async () => {
    const tenant = await t.createTenant();
    const { kid } = await t.identity.services.keys.activeSigningKey();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      typ: 'user',
      tid: tenant.id,
      roles: ['tenant_admin'],
      perms: ['user:read'],
      sid: newId(),
    })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setIssuer(t.config.HMS_JWT_ISSUER)
      .setAudience(t.config.HMS_JWT_AUDIENCE)
      .setSubject(tenant.adminUserId)
      .setJti(newId())
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);

    const response = await t.gql('{ me { id } }', {}, forged);

    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
  });

  test('expired token rejected', async () => {
    const tenant = await t.createTenant();
    const expired = await signWithIdentityKey(
      { tid: tenant.id, sub: tenant.adminUserId },
      { expiresAt: Math.floor(Date.now() / 1000) - 60 },
    );

    const response = await t.gql('{ me { id } }', {}, expired);

    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
    assert.match(response.errors?.[0]?.message ?? '', /expired/);
  });

  test('alg none rejected', async () => {
    const tenant = await t.createTenant();
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({
      iss: t.config.HMS_JWT_ISSUER,
      aud: t.config.HMS_JWT_AUDIENCE,
      sub: tenant.adminUserId,
      tid: tenant.id,
      sid: newId(),
      jti: newId(),
      typ: 'user',
      roles: ['tenant_admin'],
      perms: ['user:read', 'user:manage'],
      iat: now,
      exp: now + 300,
    })}.`;

    const response = await t.gql('{ me { id } }', {}, unsigned);

    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
  });

  test('wrong audience rejected', async () => {
    const tenant = await t.createTenant();
    const token = await signWithIdentityKey(
      { tid: tenant.id, sub: tenant.adminUserId },
      { audience: 'some-other-api' },
    );

    const response = await t.gql('{ me { id } }', {}, token);

    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
    assert.match(response.errors?.[0]?.message ?? '', /aud/);
  });

  test('anonymous requests reach only sign-in', async () => {
    const me = await t.gql('{ me { id } }');
    const service = await t.gql<{ _service: { sdl: string } }>('{ _service { sdl } }');

    assert.deepEqual(errorCodes(me), ['UNAUTHENTICATED']);
    assert.ok(service.data?._service.sdl.includes('type User'));
  });
});
