import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sessionStateKeys } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import {
  GOOD_PASSWORD,
  randomEmail,
  randomSlug,
  startTestIdentity,
  type TestIdentity,
} from '../../testing/harness.js';

const CREATE_TENANT =
  'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id slug status timeZone currency } adminUserId } }';

function tenantInput(overrides: Record<string, unknown> = {}) {
  return {
    slug: randomSlug(),
    name: 'City Hospital',
    timeZone: 'Asia/Kolkata',
    currency: 'INR',
    admin: { name: 'Admin', email: randomEmail('admin'), password: GOOD_PASSWORD },
    ...overrides,
  };
}

describe('tenants', () => {
  let t: TestIdentity;
  let operator: string;

  before(async () => {
    t = await startTestIdentity();
    operator = await t.operatorToken();
  });

  after(async () => {
    await t?.stop();
  });

  test('operator creates a tenant', async () => {
    const input = tenantInput();

    const response = await t.gql<{
      createTenant: {
        tenant: { id: string; slug: string; status: string; timeZone: string; currency: string };
      };
    }>(CREATE_TENANT, { input }, operator);

    const tenant = response.data?.createTenant.tenant;
    assert.equal(tenant?.slug, input.slug);
    assert.equal(tenant?.status, 'ACTIVE');
    assert.equal(tenant?.timeZone, 'Asia/Kolkata');
    assert.equal(tenant?.currency, 'INR');
    assert.equal(await t.redis.get(sessionStateKeys.tenantStatus(tenant?.id ?? '')), 'active');
  });

  test('new tenant has default settings and roles', async () => {
    const tenant = await t.createTenant(operator);
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const response = await t.gql<{
      me: { tenant: { settings: Record<string, unknown> } };
      roles: { name: string; builtIn: boolean }[];
    }>(
      '{ me { tenant { settings { readAuditEnabled ageOfMajority inactiveUserDisableDays patientSelfRegistration passwordPolicy { minLength historyCount maxAgeDays lockoutThreshold lockoutMinutes } } } } roles { name builtIn } }',
      {},
      admin.accessToken,
    );

    assert.deepEqual(response.data?.me.tenant.settings, {
      readAuditEnabled: true,
      ageOfMajority: 18,
      inactiveUserDisableDays: 90,
      patientSelfRegistration: false,
      passwordPolicy: {
        minLength: 12,
        historyCount: 5,
        maxAgeDays: 0,
        lockoutThreshold: 5,
        lockoutMinutes: 15,
      },
    });
    assert.deepEqual(response.data?.roles.map((role) => role.name).sort(), [
      'billing_clerk',
      'doctor',
      'front_desk',
      'lab_technician',
      'nurse',
      'support',
      'tenant_admin',
    ]);
  });

  test('invalid tenant input names fields', async () => {
    const response = await t.gql(
      CREATE_TENANT,
      {
        input: tenantInput({
          slug: 'Bad Slug',
          timeZone: 'Mars/Olympus',
          currency: 'XYZ',
          admin: { name: ' ', email: 'nope', password: 'short' },
        }),
      },
      operator,
    );

    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    const fields = (response.errors?.[0]?.extensions?.fields as { field: string }[])
      .map((error) => error.field)
      .sort();
    assert.deepEqual(fields, [
      'input.admin.displayName',
      'input.admin.email',
      'input.admin.password',
      'input.currency',
      'input.slug',
      'input.timeZone',
    ]);
  });

  test('taken slug is a conflict', async () => {
    const tenant = await t.createTenant(operator);

    const response = await t.gql(CREATE_TENANT, { input: tenantInput({ slug: tenant.slug }) }, operator);

    assert.deepEqual(errorCodes(response), ['CONFLICT']);
  });

  test('operator cannot list tenant users', async () => {
    await t.createTenant(operator);

    const users = await t.gql('{ users { totalCount } }', {}, operator);
    const me = await t.gql('{ me { id } }', {}, operator);

    assert.deepEqual(errorCodes(users), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(me), ['FORBIDDEN']);
  });

  test('operator cannot resolve tenant users', async () => {
    const tenant = await t.createTenant(operator);

    const response = await t.gql(
      'query ($refs: [_Any!]!) { _entities(representations: $refs) { ... on User { id displayName } } }',
      { refs: [{ __typename: 'User', id: tenant.adminUserId }] },
      operator,
    );

    assert.deepEqual(response.data, { _entities: [null] });
  });

  test('operator lists and reads tenants', async () => {
    const tenant = await t.createTenant(operator);

    const list = await t.gql<{ tenants: { totalCount: number } }>(
      '{ tenants(first: 1) { totalCount edges { node { id } } } }',
      {},
      operator,
    );
    const single = await t.gql<{ tenant: { slug: string } }>(
      'query ($id: ID!) { tenant(id: $id) { slug } }',
      { id: tenant.id },
      operator,
    );

    assert.ok((list.data?.tenants.totalCount ?? 0) >= 1);
    assert.equal(single.data?.tenant.slug, tenant.slug);
  });

  test('tenant admin cannot list tenants', async () => {
    const tenant = await t.createTenant(operator);
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const list = await t.gql('{ tenants { totalCount } }', {}, admin.accessToken);
    const create = await t.gql(CREATE_TENANT, { input: tenantInput() }, admin.accessToken);

    assert.deepEqual(errorCodes(list), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(create), ['FORBIDDEN']);
  });

  test('status endpoint serves the gateway', async () => {
    const tenant = await t.createTenant(operator);

    // An active tenant reads as active.
    const active = await fetch(`${t.identity.origin}/internal/tenants/${tenant.id}/status`);
    assert.equal(active.status, 200);
    assert.deepEqual(await active.json(), { status: 'active' });

    // After a suspension, the endpoint follows.
    await t.gql(
      'mutation ($id: ID!) { setTenantStatus(id: $id, status: SUSPENDED, reason: "contract ended") { id } }',
      { id: tenant.id },
      operator,
    );
    const suspended = await fetch(`${t.identity.origin}/internal/tenants/${tenant.id}/status`);
    assert.deepEqual(await suspended.json(), { status: 'suspended' });

    // Unknown and malformed ids are 404.
    const unknown = await fetch(
      `${t.identity.origin}/internal/tenants/01900000-0000-7000-8000-000000000000/status`,
    );
    assert.equal(unknown.status, 404);
    const malformed = await fetch(`${t.identity.origin}/internal/tenants/not-an-id/status`);
    assert.equal(malformed.status, 404);
  });

  test('offboarding is final', async () => {
    const tenant = await t.createTenant(operator);
    const SET =
      'mutation ($id: ID!, $status: TenantStatus!) { setTenantStatus(id: $id, status: $status, reason: "closing") { status } }';

    await t.gql(SET, { id: tenant.id, status: 'OFFBOARDED' }, operator);
    const reactivate = await t.gql(SET, { id: tenant.id, status: 'ACTIVE' }, operator);

    assert.deepEqual(errorCodes(reactivate), ['CONFLICT']);
    assert.equal(await t.redis.get(sessionStateKeys.tenantStatus(tenant.id)), 'offboarded');
  });

  test('tokens of a suspended tenant are refused', async () => {
    const tenant = await t.createTenant(operator);
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    await t.gql(
      'mutation ($id: ID!) { setTenantStatus(id: $id, status: SUSPENDED, reason: "audit") { id } }',
      { id: tenant.id },
      operator,
    );
    const me = await t.gql('{ me { id } }', {}, admin.accessToken);

    assert.deepEqual(errorCodes(me), ['TENANT_SUSPENDED']);
  });

  test('statuses republished at start', async () => {
    const tenant = await t.createTenant(operator);

    // Redis loses the key, as after a restart of a Redis that keeps nothing on disk.
    await t.redis.del(sessionStateKeys.tenantStatus(tenant.id));

    // A second identity instance starting writes every status back.
    const second = await startTestIdentity();
    await second.stop();
    assert.equal(await t.redis.get(sessionStateKeys.tenantStatus(tenant.id)), 'active');
  });

  test('settings validation names fields', async () => {
    const tenant = await t.createTenant(operator);
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const response = await t.gql(
      'mutation { updateTenantSettings(input: { ageOfMajority: 0, passwordPolicy: { minLength: 4, lockoutMinutes: 100000 } }) { id } }',
      {},
      admin.accessToken,
    );

    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    const fields = (response.errors?.[0]?.extensions?.fields as { field: string }[]).map(
      (error) => error.field,
    );
    assert.deepEqual(fields, [
      'input.ageOfMajority',
      'input.passwordPolicy.minLength',
      'input.passwordPolicy.lockoutMinutes',
    ]);
  });
});
