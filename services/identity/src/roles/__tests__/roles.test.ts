import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { errorCodes } from '@hms/test-kit';
import { GOOD_PASSWORD, randomEmail, startTestIdentity, type TestIdentity } from '../../testing/harness.js';
import { BUILT_IN_ROLES, PERMISSIONS } from '../permissions.js';

describe('roles', () => {
  let t: TestIdentity;

  before(async () => {
    t = await startTestIdentity();
  });

  after(async () => {
    await t?.stop();
  });

  test('built-in roles use known permissions', () => {
    const known = new Set<string>(PERMISSIONS);
    for (const [name, role] of Object.entries(BUILT_IN_ROLES)) {
      for (const permission of role.permissions)
        assert.ok(known.has(permission), `${name} has unknown ${permission}`);
    }
  });

  test('tenant admin writes no clinical notes', () => {
    assert.ok(!(BUILT_IN_ROLES.tenant_admin.permissions as readonly string[]).includes('note:write'));
    assert.ok((BUILT_IN_ROLES.tenant_admin.permissions as readonly string[]).includes('audit:read'));
  });

  test('custom role grants its permissions', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    // The admin defines a lab supervisor who may verify results.
    const created = await t.gql<{ createRole: { name: string; builtIn: boolean; permissions: string[] } }>(
      'mutation { createRole(input: { name: "lab_supervisor", permissions: ["lab_result:read", "lab_result:verify", "lab_result:read"] }) { name builtIn permissions } }',
      {},
      admin.accessToken,
    );
    assert.deepEqual(created.data?.createRole, {
      name: 'lab_supervisor',
      builtIn: false,
      permissions: ['lab_result:read', 'lab_result:verify'],
    });

    // A user with that role gets exactly those permissions in the token.
    const email = randomEmail('supervisor');
    await t.gql(
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      { input: { displayName: 'Lab Supervisor', email, password: GOOD_PASSWORD, roles: ['lab_supervisor'] } },
      admin.accessToken,
    );
    const login = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });
    assert.deepEqual(decodeJwt(login.accessToken).perms, ['lab_result:read', 'lab_result:verify']);
  });

  test('unknown permission is bad input', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });

    const response = await t.gql(
      'mutation { createRole(input: { name: "superuser", permissions: ["patient:read", "everything:all"] }) { id } }',
      {},
      admin.accessToken,
    );

    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    assert.deepEqual(response.errors?.[0]?.extensions?.fields, [
      { field: 'input.permissions', message: 'contains unknown permissions: everything:all' },
    ]);
  });

  test('update role checks permissions', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const created = await t.gql<{ createRole: { id: string } }>(
      'mutation { createRole(input: { name: "reader", permissions: ["patient:read"] }) { id } }',
      {},
      admin.accessToken,
    );
    const UPDATE =
      'mutation ($id: ID!, $input: UpdateRoleInput!) { updateRole(id: $id, input: $input) { permissions } }';

    const bad = await t.gql(
      UPDATE,
      { id: created.data?.createRole.id, input: { permissions: ['root'] } },
      admin.accessToken,
    );
    const good = await t.gql(
      UPDATE,
      { id: created.data?.createRole.id, input: { permissions: ['patient:read', 'document:read'] } },
      admin.accessToken,
    );

    assert.deepEqual(errorCodes(bad), ['BAD_USER_INPUT']);
    assert.deepEqual(good.data, { updateRole: { permissions: ['document:read', 'patient:read'] } });
  });

  test('built-in roles are read-only', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const roles = await t.gql<{ roles: { id: string; name: string }[] }>(
      '{ roles { id name } }',
      {},
      admin.accessToken,
    );
    const doctor = roles.data?.roles.find((role) => role.name === 'doctor');

    const response = await t.gql(
      'mutation ($id: ID!) { updateRole(id: $id, input: { permissions: ["user:manage"] }) { id } }',
      { id: doctor?.id },
      admin.accessToken,
    );

    assert.deepEqual(errorCodes(response), ['CONFLICT']);
  });

  test('nurse cannot manage roles', async () => {
    const tenant = await t.createTenant();
    const admin = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const email = randomEmail('nurse');
    await t.gql(
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      { input: { displayName: 'Nurse', email, password: GOOD_PASSWORD, roles: ['nurse'] } },
      admin.accessToken,
    );
    const nurse = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });

    const response = await t.gql(
      'mutation { createRole(input: { name: "sneaky", permissions: ["user:manage"] }) { id } }',
      {},
      nurse.accessToken,
    );

    assert.deepEqual(errorCodes(response), ['FORBIDDEN']);
  });
});
