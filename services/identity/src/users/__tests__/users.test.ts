import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { errorCodes } from '@hms/test-kit';
import {
  GOOD_PASSWORD,
  randomEmail,
  startTestIdentity,
  type TestIdentity,
  type TestTenant,
} from '../../testing/harness.js';

const CREATE_USER =
  'mutation ($input: CreateUserInput!) { createUser(input: $input) { id displayName email roles status } }';

interface CreatedUser {
  id: string;
  displayName: string;
  email: string | null;
  roles: string[] | null;
  status: string | null;
}

describe('users', () => {
  let t: TestIdentity;

  before(async () => {
    t = await startTestIdentity();
  });

  after(async () => {
    await t?.stop();
  });

  const adminToken = async (tenant: TestTenant) =>
    (await t.login({ tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword }))
      .accessToken;

  const createUser = async (token: string, input: Record<string, unknown>) => {
    const response = await t.gql<{ createUser: CreatedUser }>(
      CREATE_USER,
      { input: { password: GOOD_PASSWORD, ...input } },
      token,
    );
    if (!response.data?.createUser) throw new Error(`createUser failed: ${JSON.stringify(response.errors)}`);
    return response.data.createUser;
  };

  test('me returns tenant and roles', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);

    const response = await t.gql<{
      me: { id: string; roles: string[]; tenant: { id: string; slug: string; status: string } };
    }>('{ me { id roles tenant { id slug status } } }', {}, token);

    assert.deepEqual(response.errors, undefined);
    assert.equal(response.data?.me.id, tenant.adminUserId);
    assert.deepEqual(response.data?.me.roles, ['tenant_admin']);
    assert.deepEqual(response.data?.me.tenant, { id: tenant.id, slug: tenant.slug, status: 'ACTIVE' });
  });

  test('admin creates user with roles', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);

    // The admin creates a nurse by given and family name.
    const email = randomEmail('Nurse');
    const nurse = await createUser(token, { givenName: 'Anita', familyName: 'Das', email, roles: ['nurse'] });
    assert.equal(nurse.displayName, 'Anita Das');
    assert.equal(nurse.email, email.toLowerCase());
    assert.deepEqual(nurse.roles, ['nurse']);
    assert.equal(nurse.status, 'ACTIVE');

    // Then makes the nurse a front desk clerk as well.
    const updated = await t.gql<{ setUserRoles: { roles: string[] } }>(
      'mutation ($id: ID!) { setUserRoles(id: $id, roles: ["nurse", "front_desk"]) { roles } }',
      { id: nurse.id },
      token,
    );
    assert.deepEqual(updated.data?.setUserRoles.roles, ['front_desk', 'nurse']);

    // The nurse signs in with the new roles in the token.
    const login = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });
    const me = await t.gql<{ me: { roles: string[]; permissions: string[] } }>(
      '{ me { roles permissions } }',
      {},
      login.accessToken,
    );
    assert.deepEqual(me.data?.me.roles, ['front_desk', 'nurse']);
    assert.ok(me.data?.me.permissions.includes('appointment:write'));
    assert.ok(me.data?.me.permissions.includes('vitals:write'));
  });

  test('duplicate email is a conflict', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const email = randomEmail('dup');
    await createUser(token, { displayName: 'First', email, roles: ['doctor'] });

    const response = await t.gql(
      CREATE_USER,
      {
        input: {
          displayName: 'Second',
          email: email.toUpperCase(),
          password: GOOD_PASSWORD,
          roles: ['doctor'],
        },
      },
      token,
    );

    assert.deepEqual(errorCodes(response), ['CONFLICT']);
    assert.equal(response.errors?.[0]?.extensions?.field, 'input.email');
  });

  test('doctor cannot create users', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const email = randomEmail('doctor');
    await createUser(token, { displayName: 'Dr. Sen', email, roles: ['doctor'] });
    const doctor = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });

    const response = await t.gql(
      CREATE_USER,
      { input: { displayName: 'X', email: randomEmail(), password: GOOD_PASSWORD, roles: ['tenant_admin'] } },
      doctor.accessToken,
    );

    assert.deepEqual(errorCodes(response), ['FORBIDDEN']);
    assert.equal(response.errors?.[0]?.extensions?.permission, 'user:manage');
  });

  test('doctor sees colleague name only', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const email = randomEmail('doctor');
    await createUser(token, { displayName: 'Dr. Sen', email, roles: ['doctor'] });
    const doctor = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });

    const response = await t.gql<{
      _entities: ({ displayName: string; email: string | null; roles: string[] | null } | null)[];
    }>(
      'query ($refs: [_Any!]!) { _entities(representations: $refs) { ... on User { displayName email roles } } }',
      { refs: [{ __typename: 'User', id: tenant.adminUserId }] },
      doctor.accessToken,
    );

    assert.deepEqual(response.data?._entities, [{ displayName: 'Tenant Admin', email: null, roles: null }]);
  });

  test('password policy violations name the field', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const email = randomEmail('short');

    const tooShort = await t.gql(
      CREATE_USER,
      { input: { displayName: 'Short', email, password: 'short', roles: ['nurse'] } },
      token,
    );
    const sameAsEmail = await t.gql(
      CREATE_USER,
      { input: { displayName: 'Same', email, password: email, roles: ['nurse'] } },
      token,
    );

    assert.deepEqual(errorCodes(tooShort), ['BAD_USER_INPUT']);
    assert.deepEqual(tooShort.errors?.[0]?.extensions?.fields, [
      { field: 'input.password', message: 'must be at least 12 characters' },
    ]);
    assert.deepEqual(errorCodes(sameAsEmail), ['BAD_USER_INPUT']);
    assert.deepEqual(sameAsEmail.errors?.[0]?.extensions?.fields, [
      { field: 'input.password', message: 'must not be the email address or phone number of the account' },
    ]);
  });

  test('tenant minimum length applies', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);

    // The admin raises the minimum length to 20.
    const settings = await t.gql(
      'mutation { updateTenantSettings(input: { passwordPolicy: { minLength: 20 } }) { settings { passwordPolicy { minLength } } } }',
      {},
      token,
    );
    assert.deepEqual(settings.data, {
      updateTenantSettings: { settings: { passwordPolicy: { minLength: 20 } } },
    });

    // A password of 19 characters, fine before, is now rejected.
    const response = await t.gql(
      CREATE_USER,
      { input: { displayName: 'Y', email: randomEmail(), password: 'a'.repeat(19), roles: ['nurse'] } },
      token,
    );
    assert.deepEqual(response.errors?.[0]?.extensions?.fields, [
      { field: 'input.password', message: 'must be at least 20 characters' },
    ]);
  });

  test('change password keeps history', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const CHANGE =
      'mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }';
    const second = 'second password of the admin';

    // A wrong current password is rejected on its own field.
    const wrongCurrent = await t.gql(CHANGE, { current: 'not the password at all', next: second }, token);
    assert.deepEqual(wrongCurrent.errors?.[0]?.extensions?.fields, [
      { field: 'currentPassword', message: 'is not the current password' },
    ]);

    // The current password cannot be chosen again.
    const reuse = await t.gql(CHANGE, { current: tenant.adminPassword, next: tenant.adminPassword }, token);
    assert.deepEqual(reuse.errors?.[0]?.extensions?.fields, [
      { field: 'newPassword', message: 'must differ from the last 5 passwords' },
    ]);

    // A new one is accepted, and going back to the first is rejected by the history.
    const changed = await t.gql(CHANGE, { current: tenant.adminPassword, next: second }, token);
    assert.deepEqual(changed.data, { changePassword: true });
    const back = await t.gql(CHANGE, { current: second, next: tenant.adminPassword }, token);
    assert.deepEqual(back.errors?.[0]?.extensions?.fields, [
      { field: 'newPassword', message: 'must differ from the last 5 passwords' },
    ]);

    // Sign-in works with the new password only.
    const login = await t.login({ tenantSlug: tenant.slug, email: tenant.adminEmail, password: second });
    assert.equal(login.user?.id, tenant.adminUserId);
  });

  test('guessing current password locks account', async () => {
    const tenant = await t.createTenant();
    const session = await t.login({
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const CHANGE =
      'mutation ($current: String!) { changePassword(currentPassword: $current, newPassword: "a brand new password") }';

    // Four wrong guesses are ordinary input errors.
    for (let guess = 0; guess < 4; guess += 1) {
      assert.deepEqual(
        errorCodes(await t.gql(CHANGE, { current: `guess number ${guess}` }, session.accessToken)),
        ['BAD_USER_INPUT'],
      );
    }

    // The fifth reaches the tenant's lockout threshold: the account locks and the session ends.
    const fifth = await t.gql(CHANGE, { current: 'guess number 4' }, session.accessToken);
    assert.deepEqual(errorCodes(fifth), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(await t.gql('{ me { id } }', {}, session.accessToken)), ['UNAUTHENTICATED']);
    const login = await t.gql('mutation ($input: LoginInput!) { login(input: $input) { accessToken } }', {
      input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: tenant.adminPassword },
    });
    assert.deepEqual(errorCodes(login), ['UNAUTHENTICATED']);
  });

  test('reset password requires a change', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const email = randomEmail('forgetful');
    const user = await createUser(token, { displayName: 'Forgetful', email, roles: ['doctor'] });
    const temporary = 'temporary password 2024';

    await t.gql(
      'mutation ($id: ID!, $p: String!) { resetUserPassword(id: $id, newPassword: $p) { id } }',
      { id: user.id, p: temporary },
      token,
    );

    // The temporary password signs in, but the token grants nothing until the user changes it.
    const login = await t.gql<{ login: { accessToken: string; passwordChangeRequired: boolean } }>(
      'mutation ($input: LoginInput!) { login(input: $input) { accessToken passwordChangeRequired } }',
      { input: { tenantSlug: tenant.slug, email, password: temporary } },
    );
    assert.equal(login.data?.login.passwordChangeRequired, true);
    const restricted = login.data?.login.accessToken ?? '';
    assert.deepEqual(errorCodes(await t.gql('{ users { totalCount } }', {}, restricted)), ['FORBIDDEN']);

    // After the change, a new sign-in carries the doctor's permissions.
    await t.gql(
      'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }',
      { c: temporary, n: GOOD_PASSWORD + '!' },
      restricted,
    );
    const fresh = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD + '!' });
    const me = await t.gql<{ me: { permissions: string[] } }>(
      '{ me { permissions } }',
      {},
      fresh.accessToken,
    );
    assert.ok(me.data?.me.permissions.includes('note:write'));
  });

  test('users lists pages with totals', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    for (const name of ['Carol', 'Alice', 'Bob'])
      await createUser(token, { displayName: name, email: randomEmail(name), roles: ['nurse'] });
    const USERS =
      'query ($after: String, $search: String) { users(first: 2, after: $after, search: $search) { totalCount edges { node { displayName } } pageInfo { hasNextPage endCursor } } }';

    // The first page has two users by name, and more to come.
    const first = await t.gql<{
      users: {
        totalCount: number;
        edges: { node: { displayName: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>(USERS, {}, token);
    assert.equal(first.data?.users.totalCount, 4);
    assert.deepEqual(
      first.data?.users.edges.map((edge) => edge.node.displayName),
      ['Alice', 'Bob'],
    );
    assert.equal(first.data?.users.pageInfo.hasNextPage, true);

    // The second page has the rest.
    const second = await t.gql<typeof first.data & object>(
      USERS,
      { after: first.data?.users.pageInfo.endCursor },
      token,
    );
    assert.deepEqual(
      second.data?.users.edges.map((edge) => edge.node.displayName),
      ['Carol', 'Tenant Admin'],
    );
    assert.equal(second.data?.users.pageInfo.hasNextPage, false);

    // A search narrows the list and its total.
    const searched = await t.gql<typeof first.data & object>(USERS, { search: 'bo' }, token);
    assert.equal(searched.data?.users.totalCount, 1);
    assert.deepEqual(
      searched.data?.users.edges.map((edge) => edge.node.displayName),
      ['Bob'],
    );
  });

  test('other tenant user is invisible', async () => {
    const tenantA = await t.createTenant();
    const tenantB = await t.createTenant();
    const tokenA = await adminToken(tenantA);

    const byId = await t.gql(
      'query ($id: ID!) { user(id: $id) { id } }',
      { id: tenantB.adminUserId },
      tokenA,
    );
    const byReference = await t.gql(
      'query ($refs: [_Any!]!) { _entities(representations: $refs) { ... on User { id } } }',
      {
        refs: [
          { __typename: 'User', id: tenantB.adminUserId },
          { __typename: 'User', id: tenantA.adminUserId },
        ],
      },
      tokenA,
    );
    const update = await t.gql(
      'mutation ($id: ID!) { updateUser(id: $id, input: { displayName: "Hijacked" }) { id } }',
      { id: tenantB.adminUserId },
      tokenA,
    );
    const tenant = await t.gql('query ($id: ID!) { tenant(id: $id) { id } }', { id: tenantB.id }, tokenA);

    assert.deepEqual(byId.data, { user: null });
    assert.deepEqual(byReference.data, { _entities: [null, { id: tenantA.adminUserId }] });
    assert.deepEqual(errorCodes(update), ['NOT_FOUND']);
    assert.deepEqual(tenant.data, { tenant: null });
  });

  test('references resolve in one batch', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const ids = [tenant.adminUserId];
    for (const name of ['Uma', 'Vik', 'Wes', 'Xia'])
      ids.push(
        (await createUser(token, { displayName: name, email: randomEmail(name), roles: ['nurse'] })).id,
      );

    // Count the user lookups that reach the database layer while five references resolve.
    const users = t.identity.services.users;
    const original = users.getMany.bind(users);
    let lookups = 0;
    users.getMany = async (tenantId, batch) => {
      lookups += 1;
      return original(tenantId, batch);
    };
    try {
      const response = await t.gql<{ _entities: { displayName: string }[] }>(
        'query ($refs: [_Any!]!) { _entities(representations: $refs) { ... on User { displayName } } }',
        { refs: ids.map((id) => ({ __typename: 'User', id })) },
        token,
      );

      assert.deepEqual(
        response.data?._entities.map((user) => user.displayName),
        ['Tenant Admin', 'Uma', 'Vik', 'Wes', 'Xia'],
      );
      assert.equal(lookups, 1);
    } finally {
      users.getMany = original;
    }
  });

  test('inactive user is deactivated at sign-in', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);
    const email = randomEmail('idle');
    const idle = await createUser(token, { displayName: 'Idle', email, roles: ['nurse'] });

    // The user was last active 91 days ago, beyond the default limit of 90.
    const admin = new pg.Client({ connectionString: t.database.adminUrl });
    await admin.connect();
    try {
      await admin.query(
        `update identity.users set last_active_at = now() - interval '91 days', status_changed_at = now() - interval '91 days' where id = $1`,
        [idle.id],
      );
    } finally {
      await admin.end();
    }

    // Sign-in fails like any other failure, and the account is now deactivated.
    const response = await t.gql('mutation ($input: LoginInput!) { login(input: $input) { accessToken } }', {
      input: { tenantSlug: tenant.slug, email, password: GOOD_PASSWORD },
    });
    assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
    const user = await t.gql<{ user: { status: string } }>(
      'query ($id: ID!) { user(id: $id) { status } }',
      { id: idle.id },
      token,
    );
    assert.equal(user.data?.user.status, 'DEACTIVATED');

    // Reactivation gives the user a fresh period.
    await t.gql('mutation ($id: ID!) { reactivateUser(id: $id) { id } }', { id: idle.id }, token);
    const again = await t.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });
    assert.equal(again.user?.id, idle.id);
  });

  test('last admin cannot be removed', async () => {
    const tenant = await t.createTenant();
    const token = await adminToken(tenant);

    const demote = await t.gql(
      'mutation ($id: ID!) { setUserRoles(id: $id, roles: ["doctor"]) { id } }',
      { id: tenant.adminUserId },
      token,
    );
    const deactivateSelf = await t.gql(
      'mutation ($id: ID!) { deactivateUser(id: $id) { id } }',
      { id: tenant.adminUserId },
      token,
    );

    assert.deepEqual(errorCodes(demote), ['CONFLICT']);
    assert.deepEqual(errorCodes(deactivateSelf), ['CONFLICT']);
  });
});
