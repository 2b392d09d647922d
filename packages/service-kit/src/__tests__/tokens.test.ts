import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from '@hms/test-kit/issuer';
import { createTokenVerifier, TokenRejectedError } from '../auth/tokens.js';

let issuer: TestIssuer;

before(async () => {
  issuer = await startTestIssuer();
});

after(async () => {
  await issuer.stop();
});

function verifier() {
  return createTokenVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: issuer.audience });
}

test('valid token yields its claims', async () => {
  const token = await issuer.sign({ tid: '0190a0a0-0000-7000-8000-000000000001', perms: ['patient:read'] });
  const claims = await verifier()(token);
  assert.equal(claims.tid, '0190a0a0-0000-7000-8000-000000000001');
  assert.deepEqual(claims.perms, ['patient:read']);
});

test('wrong audience is rejected', async () => {
  const token = await issuer.sign({ tid: 't', aud: 'another-api' });
  await assert.rejects(
    verifier()(token),
    (error: TokenRejectedError) => error.reason === 'claim aud is invalid',
  );
});

test('expired token is rejected', async () => {
  const token = await issuer.sign({ tid: 't' }, { expiresInSeconds: -60 });
  await assert.rejects(verifier()(token), (error: TokenRejectedError) => error.reason === 'token expired');
});

test('unsigned alg none token is rejected', async () => {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = {
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: 'u',
    tid: 't',
    sid: 's',
    jti: 'j',
    typ: 'user',
    roles: [],
    perms: [],
    iat: now,
    exp: now + 60,
  };
  const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
  await assert.rejects(verifier()(token), TokenRejectedError);
});

test('token without tenant is rejected unless platform', async () => {
  const userToken = await issuer.sign({ typ: 'user' });
  await assert.rejects(verifier()(userToken), (error: TokenRejectedError) => /tid/.test(error.reason));
  const platformToken = await issuer.sign({ typ: 'platform', roles: ['platform_operator'] });
  const claims = await verifier()(platformToken);
  assert.equal(claims.tid, undefined);
});

test('unreachable JWKS is a temporary rejection', async () => {
  const token = await issuer.sign({ tid: 't' });
  const unreachable = createTokenVerifier({
    jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json',
    issuer: issuer.issuer,
    audience: issuer.audience,
  });
  await assert.rejects(unreachable(token), (error: TokenRejectedError) => error.temporary === true);
});
