import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes, startTestIssuer } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { adultInput, REGISTER_PATIENT, SEARCH_PATIENTS } from '../../testing/fixtures.js';
import { PATIENT_READ } from '../resolvers.js';

const ENTITIES = `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Patient { id } }
  }
`;

/** Encodes a JSON object as one base64url part of a JWT. */
function part(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('authentication and permissions', () => {
  let harness: ClinicalHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  const searchWith = async (token: string | undefined) =>
    (await harness.graphql(SEARCH_PATIENTS, {}, token)).body;

  test('anonymous _service allowed', async () => {
    const { body } = await harness.graphql<{ _service: { sdl: string } }>('{ _service { sdl } }');

    assert.equal(body.errors, undefined);
    assert.match(body.data?._service.sdl ?? '', /type Patient/);
  });

  test('anonymous _entities rejected', async () => {
    const { body } = await harness.graphql(ENTITIES, {
      representations: [{ __typename: 'Patient', id: newId() }],
    });

    assert.deepEqual(errorCodes(body), ['UNAUTHENTICATED']);
  });

  test('anonymous patients rejected', async () => {
    assert.deepEqual(errorCodes(await searchWith(undefined)), ['UNAUTHENTICATED']);
  });

  test('anonymous registration rejected', async () => {
    const { body } = await harness.graphql(REGISTER_PATIENT, { input: adultInput() });

    assert.deepEqual(errorCodes(body), ['UNAUTHENTICATED']);
  });

  test('token of unknown key rejected', async () => {
    const stranger = await startTestIssuer();
    try {
      const token = await stranger.sign({ tid: newId(), perms: [PATIENT_READ] });
      assert.deepEqual(errorCodes(await searchWith(token)), ['UNAUTHENTICATED']);
    } finally {
      await stranger.stop();
    }
  });

  test('tampered token rejected', async () => {
    const token = await harness.token(newId());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;

    const forged = [header, part({ ...claims, tid: newId() }), signature].join('.');

    assert.deepEqual(errorCodes(await searchWith(forged)), ['UNAUTHENTICATED']);
  });

  test('expired token rejected', async () => {
    const token = await harness.issuer.sign(
      { tid: newId(), perms: [PATIENT_READ] },
      { expiresInSeconds: -60 },
    );

    assert.deepEqual(errorCodes(await searchWith(token)), ['UNAUTHENTICATED']);
  });

  test('wrong audience rejected', async () => {
    const token = await harness.issuer.sign({ tid: newId(), perms: [PATIENT_READ], aud: 'another-graph' });

    assert.deepEqual(errorCodes(await searchWith(token)), ['UNAUTHENTICATED']);
  });

  test('wrong issuer rejected', async () => {
    const token = await harness.issuer.sign({
      tid: newId(),
      perms: [PATIENT_READ],
      iss: 'https://issuer.example.org',
    });

    assert.deepEqual(errorCodes(await searchWith(token)), ['UNAUTHENTICATED']);
  });

  test('unsigned alg none rejected', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: harness.issuer.issuer,
      aud: harness.issuer.audience,
      sub: newId(),
      tid: newId(),
      sid: newId(),
      jti: newId(),
      typ: 'user',
      roles: ['doctor'],
      perms: [PATIENT_READ],
      iat: now,
      exp: now + 300,
    };

    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;

    assert.deepEqual(errorCodes(await searchWith(token)), ['UNAUTHENTICATED']);
  });

  test('platform operator token refused', async () => {
    const token = await harness.issuer.sign({
      typ: 'platform',
      perms: [PATIENT_READ],
      roles: ['platform_operator'],
    });

    assert.deepEqual(errorCodes(await searchWith(token)), ['FORBIDDEN']);
  });

  test('read without patient:read forbidden', async () => {
    const token = await harness.token(newId(), ['appointment:read']);

    assert.deepEqual(errorCodes(await searchWith(token)), ['FORBIDDEN']);
  });

  test('entities without patient:read forbidden', async () => {
    const token = await harness.token(newId(), ['appointment:read']);

    const { body } = await harness.graphql(
      ENTITIES,
      { representations: [{ __typename: 'Patient', id: newId() }] },
      token,
    );

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('registration without patient:write forbidden', async () => {
    const tenantId = newId();
    const readOnly = await harness.token(tenantId, [PATIENT_READ]);

    const { body } = await harness.graphql(REGISTER_PATIENT, { input: adultInput() }, readOnly);
    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);

    const { body: list } = await harness.graphql<{ patients: { totalCount: number } }>(
      SEARCH_PATIENTS,
      {},
      readOnly,
    );
    assert.equal(list.data?.patients.totalCount, 0);
  });
});
