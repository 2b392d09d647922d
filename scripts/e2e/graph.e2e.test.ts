import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { errorCodes } from '@hms/test-kit';
import { importFhir } from '../fhir-import/import.js';
import { randomSuffix, startSystem, type System } from './harness.js';
import {
  GOOD_PASSWORD,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestTenant,
} from '../../services/identity/src/testing/harness.js';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresAt user { id } } }`;
const REFRESH = `mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken expiresAt user { id } } }`;
const ME = '{ me { id tenant { id slug status } roles } }';
const REGISTER = `mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id mrn name { text } birthDate } }`;
const PATIENT = 'query ($id: ID!) { patient(id: $id) { id mrn } }';
const SEARCH =
  'query ($search: String) { patients(search: $search, first: 10) { totalCount edges { node { id mrn name { text } } } } }';
const ENTITIES =
  'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Patient { id mrn } } }';

interface Session {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: { id: string };
}

let system: System;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

/** Creates a tenant through the gateway as a platform operator and returns it with its admin. */
async function newTenant(): Promise<TestTenant> {
  const operator = await system.identity.operatorToken();
  const slug = `e2e-${randomSuffix()}`;
  const adminEmail = `admin.${randomSuffix()}@example.org`;
  const response = await system.gateway<{ createTenant: { tenant: { id: string }; adminUserId: string } }>(
    'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } adminUserId } }',
    {
      input: {
        slug,
        name: `E2E ${slug}`,
        timeZone: 'Asia/Kolkata',
        currency: 'INR',
        admin: { name: 'Admin', email: adminEmail, password: GOOD_PASSWORD },
      },
    },
    operator,
  );
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  const created = response.body.data!.createTenant;
  return {
    id: created.tenant.id,
    slug,
    adminUserId: created.adminUserId,
    adminEmail,
    adminPassword: GOOD_PASSWORD,
  };
}

async function login(tenant: TestTenant): Promise<Session> {
  const response = await system.gateway<{ login: Session }>(LOGIN, {
    input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword },
  });
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data!.login;
}

function adultInput(family: string, given = 'Asha') {
  return { name: { given: [given], family }, sex: 'FEMALE', birthDate: '1984-03-09', phone: '+919812345678' };
}

async function register(token: string, input: Record<string, unknown>): Promise<{ id: string; mrn: string }> {
  const response = await system.gateway<{ registerPatient: { id: string; mrn: string } }>(
    REGISTER,
    { input },
    token,
  );
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data!.registerPatient;
}

describe('sign-in through the gateway', () => {
  test('login and me', async () => {
    const tenant = await newTenant();

    const session = await login(tenant);
    const me = await system.gateway<{
      me: { id: string; tenant: { slug: string; status: string }; roles: string[] };
    }>(ME, {}, session.accessToken);

    assert.equal(me.body.data?.me.id, session.user.id);
    assert.equal(me.body.data?.me.tenant.slug, tenant.slug);
    assert.equal(me.body.data?.me.tenant.status, 'ACTIVE');
    assert.deepEqual(me.body.data?.me.roles, ['tenant_admin']);
  });

  test('wrong password is UNAUTHENTICATED', async () => {
    const tenant = await newTenant();
    const response = await system.gateway(LOGIN, {
      input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: 'not the password at all' },
    });
    assert.deepEqual(errorCodes(response.body), ['UNAUTHENTICATED']);
  });

  test('refresh rotates the pair', async () => {
    const tenant = await newTenant();
    const first = await login(tenant);

    const refreshed = await system.gateway<{ refreshSession: Session }>(REFRESH, {
      token: first.refreshToken,
    });

    assert.equal(refreshed.body.errors, undefined);
    const second = refreshed.body.data!.refreshSession;
    assert.notEqual(second.refreshToken, first.refreshToken);
    const me = await system.gateway(ME, {}, second.accessToken);
    assert.equal(me.body.errors, undefined);
  });

  test('refresh token reuse revokes the session', async () => {
    const tenant = await newTenant();
    const first = await login(tenant);
    const second = (await system.gateway<{ refreshSession: Session }>(REFRESH, { token: first.refreshToken }))
      .body.data!.refreshSession;

    // The rotated token comes back, as a thief's replay would.
    const replay = await system.gateway(REFRESH, { token: first.refreshToken });
    assert.deepEqual(errorCodes(replay.body), ['UNAUTHENTICATED']);

    // The whole session is gone: the newest refresh token and access token stop working too.
    const next = await system.gateway(REFRESH, { token: second.refreshToken });
    assert.deepEqual(errorCodes(next.body), ['UNAUTHENTICATED']);
    const me = await system.gateway(ME, {}, second.accessToken);
    assert.deepEqual(errorCodes(me.body), ['UNAUTHENTICATED']);
  });

  test('logout ends the session at once', async () => {
    const tenant = await newTenant();
    const session = await login(tenant);

    const logout = await system.gateway<{ logout: boolean }>('mutation { logout }', {}, session.accessToken);
    assert.equal(logout.body.data?.logout, true);

    const me = await system.gateway(ME, {}, session.accessToken);
    assert.deepEqual(errorCodes(me.body), ['UNAUTHENTICATED']);
    const refresh = await system.gateway(REFRESH, { token: session.refreshToken });
    assert.deepEqual(errorCodes(refresh.body), ['UNAUTHENTICATED']);

    // Regression: the clinical subgraph, reached past the gateway, accepted the ended session's token.
    const direct = await system.clinical(SEARCH, {}, session.accessToken);
    assert.deepEqual(errorCodes(direct.body), ['UNAUTHENTICATED']);
  });

  test('suspended tenant token rejected at once', async () => {
    const tenant = await newTenant();
    const session = await login(tenant);
    assert.equal((await system.gateway(ME, {}, session.accessToken)).body.errors, undefined);

    const operator = await system.identity.operatorToken();
    const suspend = await system.gateway(
      'mutation ($id: ID!) { setTenantStatus(id: $id, status: SUSPENDED, reason: "Unpaid subscription") { status } }',
      { id: tenant.id },
      operator,
    );
    assert.equal(suspend.body.errors, undefined, JSON.stringify(suspend.body.errors));

    const me = await system.gateway(ME, {}, session.accessToken);
    assert.deepEqual(errorCodes(me.body), ['TENANT_SUSPENDED']);
    const patients = await system.gateway(SEARCH, {}, session.accessToken);
    assert.deepEqual(errorCodes(patients.body), ['TENANT_SUSPENDED']);

    // Regression: the clinical subgraph, reached past the gateway, served the suspended tenant.
    const direct = await system.clinical(SEARCH, {}, session.accessToken);
    assert.deepEqual(errorCodes(direct.body), ['TENANT_SUSPENDED']);
  });
});

describe('tokens the gateway and subgraphs reject', () => {
  let tenant: TestTenant;
  let session: Session;

  before(async () => {
    tenant = await newTenant();
    session = await login(tenant);
  });

  /** Signs a token with identity's real active key, so only the claim under test is wrong. */
  async function signWithIdentityKey(overrides: { audience?: string; expiresAt?: number }): Promise<string> {
    const { kid, key } = await system.identity.identity.services.keys.activeSigningKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      tid: tenant.id,
      sid: 'e2e-session',
      roles: ['tenant_admin'],
      perms: ['patient:read'],
      typ: 'user',
    })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setIssuer(TEST_ISSUER)
      .setAudience(overrides.audience ?? TEST_AUDIENCE)
      .setSubject(session.user.id)
      .setJti(randomSuffix())
      .setIssuedAt(now - 600)
      .setExpirationTime(overrides.expiresAt ?? now + 300)
      .sign(key);
  }

  function unsignedToken(): string {
    const [header, payload] = session.accessToken.split('.');
    assert.ok(header);
    assert.ok(payload);
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    return `${noneHeader}.${payload}.`;
  }

  function forgedToken(): string {
    const [header, payload, signature] = session.accessToken.split('.');
    assert.ok(header);
    assert.ok(payload);
    assert.ok(signature);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims.perms = ['patient:read', 'patient:write', 'audit:read', 'user:manage'];
    return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  }

  const cases: [string, () => Promise<string> | string][] = [
    ['forged claims', forgedToken],
    ['alg none', unsignedToken],
    ['expired', () => signWithIdentityKey({ expiresAt: Math.floor(Date.now() / 1000) - 120 })],
    ['wrong audience', () => signWithIdentityKey({ audience: 'some-other-api' })],
  ];

  for (const [name, make] of cases) {
    test(`${name} token rejected at gateway`, async () => {
      const response = await system.gateway(SEARCH, {}, await make());
      assert.deepEqual(errorCodes(response.body), ['UNAUTHENTICATED']);
    });

    test(`${name} token rejected at subgraph`, async () => {
      const response = await system.clinical(SEARCH, {}, await make());
      assert.deepEqual(errorCodes(response.body), ['UNAUTHENTICATED']);
    });
  }

  test('subgraph without token serves only _service', async () => {
    const service = await system.clinical<{ _service: { sdl: string } }>('{ _service { sdl } }');
    assert.match(service.body.data?._service.sdl ?? '', /type Patient/);

    const entities = await system.clinical(ENTITIES, { reps: [{ __typename: 'Patient', id: tenant.id }] });
    assert.deepEqual(errorCodes(entities.body), ['UNAUTHENTICATED']);
    const search = await system.clinical(SEARCH);
    assert.deepEqual(errorCodes(search.body), ['UNAUTHENTICATED']);
  });
});

describe('patients through the gateway', () => {
  test('registration, validation and search', async () => {
    const tenant = await newTenant();
    const { accessToken } = await login(tenant);
    const family = `Müller${randomSuffix()}`;

    const patient = await register(accessToken, adultInput(family, 'José'));
    assert.match(patient.mrn, /\d+/);

    const invalid = await system.gateway(
      REGISTER,
      { input: { ...adultInput(family), birthDate: '2999-01-01', phone: 'call me' } },
      accessToken,
    );
    assert.deepEqual(errorCodes(invalid.body), ['BAD_USER_INPUT']);
    const fields = (invalid.body.errors?.[0]?.extensions?.fields ?? []) as { field: string }[];
    assert.ok(
      fields.some((field) => field.field === 'input.birthDate'),
      JSON.stringify(fields),
    );
    assert.ok(
      fields.some((field) => field.field === 'input.phone'),
      JSON.stringify(fields),
    );

    // Regression: a malformed LocalDate failed variable coercion at the subgraph, which returned HTTP 400,
    // and the gateway turned that into INTERNAL_SERVER_ERROR without naming the field.
    const impossibleDate = await system.gateway(
      REGISTER,
      { input: { ...adultInput(family), birthDate: '1990-02-30' } },
      accessToken,
    );
    assert.deepEqual(errorCodes(impossibleDate.body), ['BAD_USER_INPUT']);
    assert.deepEqual(
      ((impossibleDate.body.errors?.[0]?.extensions?.fields ?? []) as { field: string }[]).map(
        (field) => field.field,
      ),
      ['input.birthDate'],
    );

    const byAccentlessName = await system.gateway<{
      patients: { totalCount: number; edges: { node: { id: string } }[] };
    }>(SEARCH, { search: `jose ${family.replace('ü', 'u').toUpperCase()}` }, accessToken);
    assert.equal(byAccentlessName.body.errors, undefined, JSON.stringify(byAccentlessName.body.errors));
    assert.deepEqual(
      byAccentlessName.body.data?.patients.edges.map((edge) => edge.node.id),
      [patient.id],
    );

    const byMrn = await system.gateway<{ patients: { totalCount: number } }>(
      SEARCH,
      { search: patient.mrn },
      accessToken,
    );
    assert.equal(byMrn.body.data?.patients.totalCount, 1);
  });

  test('other tenant cannot read, find or resolve', async () => {
    const tenantA = await newTenant();
    const tenantB = await newTenant();
    const tokenA = (await login(tenantA)).accessToken;
    const tokenB = (await login(tenantB)).accessToken;
    const family = `Private${randomSuffix()}`;
    const patient = await register(tokenA, adultInput(family));

    // Tenant A sees its patient, at the gateway and at the subgraph.
    assert.equal(
      (await system.gateway<{ patient: { id: string } }>(PATIENT, { id: patient.id }, tokenA)).body.data
        ?.patient?.id,
      patient.id,
    );
    const ownEntities = await system.clinical<{ _entities: ({ id: string } | null)[] }>(
      ENTITIES,
      { reps: [{ __typename: 'Patient', id: patient.id }] },
      tokenA,
    );
    assert.equal(ownEntities.body.data?._entities[0]?.id, patient.id);

    // Tenant B gets null for the id, no search hit, and null from _entities.
    const read = await system.gateway<{ patient: unknown }>(PATIENT, { id: patient.id }, tokenB);
    assert.equal(read.body.errors, undefined);
    assert.equal(read.body.data?.patient, null);
    const found = await system.gateway<{ patients: { totalCount: number } }>(
      SEARCH,
      { search: family },
      tokenB,
    );
    assert.equal(found.body.data?.patients.totalCount, 0);
    const directRead = await system.clinical<{ patient: unknown }>(PATIENT, { id: patient.id }, tokenB);
    assert.equal(directRead.body.data?.patient, null);
    const resolved = await system.clinical<{ _entities: unknown[] }>(
      ENTITIES,
      { reps: [{ __typename: 'Patient', id: patient.id }] },
      tokenB,
    );
    assert.equal(resolved.body.errors, undefined);
    assert.deepEqual(resolved.body.data?._entities, [null]);
  });

  test('platform operator cannot read patients', async () => {
    const operator = await system.identity.operatorToken();
    const response = await system.gateway(SEARCH, {}, operator);
    assert.deepEqual(errorCodes(response.body), ['FORBIDDEN']);
  });
});

describe('FHIR import through the gateway', () => {
  test('second run creates nothing', async () => {
    const tenant = await newTenant();
    const fixtures = fileURLToPath(new URL('../fhir-import/fixtures/', import.meta.url));
    const options = {
      gatewayUrl: system.gatewayUrl,
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
      paths: [fixtures],
      now: new Date('2026-12-01T00:00:00Z'),
      // The tenant admin may register patients but not write clinical records;
      // fhir-history.e2e.test.ts imports the history as the import user.
      history: false,
      log: () => {},
    };

    const first = await importFhir(options);
    const second = await importFhir(options);

    assert.equal(first.failed, 0, JSON.stringify(first.failures));
    assert.ok(first.created > 0);
    assert.equal(second.read, first.read);
    assert.equal(second.created, 0);
    assert.equal(second.failed, 0, JSON.stringify(second.failures));
    assert.equal(second.skipped, first.created + first.skipped);

    const { accessToken } = await login(tenant);
    const all = await system.gateway<{ patients: { totalCount: number } }>(SEARCH, {}, accessToken);
    assert.equal(all.body.data?.patients.totalCount, first.created);
  });
});
