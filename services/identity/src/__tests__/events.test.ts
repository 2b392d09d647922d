import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  Actor_Kind,
  AUDIT_TOPIC,
  AuditRecordSchema,
  decodeEnvelope,
  IDENTITY_EVENTS_TOPIC,
  LoginFailedSchema,
  LoginFailureReason,
  Operation,
  Outcome,
  SessionRevokedSchema,
  SessionRevokeReason,
  TenantCreatedSchema,
  TenantSettingsChangedSchema,
  UserCreatedSchema,
  UserUpdatedSchema,
  unpackPayloadAs,
} from '@hms/proto-schemas';
import { newId } from '@hms/service-kit';
import {
  GOOD_PASSWORD,
  randomEmail,
  startTestIdentity,
  type TestIdentity,
  type TestTenant,
} from '../testing/harness.js';

interface OutboxRow {
  id: string;
  type: string;
  topic: string;
  message_key: string;
  payload: Buffer;
}

const CREATE_USER = `mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const UPDATE_USER = `mutation ($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }`;

/** Returns a new traceparent and its trace id. */
function newTrace(): { traceparent: string; traceId: string } {
  const traceId = newId().replaceAll('-', '');
  return { traceparent: `00-${traceId}-${'2'.repeat(16)}-01`, traceId };
}

describe('identity events and audit records', () => {
  let harness: TestIdentity;
  let admin: pg.Client;
  let tenant: TestTenant;
  let adminToken: string;

  before(async () => {
    harness = await startTestIdentity();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    tenant = await harness.createTenant();
    adminToken = (
      await harness.login({ tenantSlug: tenant.slug, email: tenant.adminEmail, password: GOOD_PASSWORD })
    ).accessToken;
  });

  after(async () => {
    await admin?.end();
    await harness?.stop();
  });

  /** Returns the tenant's outbox rows written after `afterId`, with their envelopes decoded. */
  const outboxAfter = async (afterId: string) => {
    const { rows } = await admin.query<OutboxRow>(
      'select id, type, topic, message_key, payload from identity.outbox where tenant_id = $1 and id > $2 order by id',
      [tenant.id, afterId],
    );
    return rows.map((row) => ({ ...row, envelope: decodeEnvelope(row.payload) }));
  };
  const lastId = async () =>
    (await admin.query<{ id: string }>('select coalesce(max(id), 0)::text as id from identity.outbox'))
      .rows[0]!.id;

  test('tenant creation: tenant and admin events', async () => {
    const { rows } = await admin.query<{ type: string }>(
      'select type from identity.outbox where tenant_id = $1 order by id',
      [tenant.id],
    );
    const types = rows.map((row) => row.type);
    assert.ok(types.includes('identity.tenant.created'));
    assert.ok(types.includes('identity.user.created'));
    assert.ok(types.includes('identity.login.succeeded'));

    const created = await admin.query<OutboxRow>(
      "select payload from identity.outbox where tenant_id = $1 and type = 'identity.tenant.created'",
      [tenant.id],
    );
    const payload = unpackPayloadAs(decodeEnvelope(created.rows[0]!.payload), TenantCreatedSchema);
    assert.equal(payload?.tenantId, tenant.id);
    assert.equal(payload?.readAuditEnabled, true);
    assert.equal(payload?.ageOfMajority, 18);
    assert.equal(payload?.timeZone, 'Asia/Kolkata');
  });

  test('settings change: changed names and current values', async () => {
    const since = await lastId();
    const response = await harness.gql(
      'mutation { updateTenantSettings(input: { readAuditEnabled: false, ageOfMajority: 21 }) { id } }',
      {},
      adminToken,
    );
    assert.equal(response.errors, undefined);
    const event = (await outboxAfter(since)).find((row) => row.type === 'identity.tenant.settings_changed');
    assert.ok(event, 'a settings_changed event is in the outbox');
    const payload = unpackPayloadAs(event.envelope, TenantSettingsChangedSchema);
    assert.deepEqual([...(payload?.changedSettings ?? [])].sort(), ['ageOfMajority', 'readAuditEnabled']);
    assert.equal(payload?.readAuditEnabled, false);
    assert.equal(payload?.ageOfMajority, 21);
    assert.equal(payload?.timeZone, 'Asia/Kolkata');

    // Restores the defaults, so later tests of this tenant see a newly created tenant's settings.
    const restored = await harness.gql(
      'mutation { updateTenantSettings(input: { readAuditEnabled: true, ageOfMajority: 18 }) { id } }',
      {},
      adminToken,
    );
    assert.equal(restored.errors, undefined);
  });

  test('user creation: event, CREATE record, trace', async () => {
    const since = await lastId();
    const { traceparent, traceId } = newTrace();
    const email = randomEmail('nurse');
    const response = await harness.gql<{ createUser: { id: string } }>(
      CREATE_USER,
      { input: { displayName: 'Night Nurse', email, password: GOOD_PASSWORD, roles: ['tenant_admin'] } },
      adminToken,
      { traceparent, 'x-hms-client-ip': '192.0.2.10', 'x-hms-user-agent': 'admin-console/1.0' },
    );
    assert.equal(response.errors, undefined);
    const userId = response.data!.createUser.id;

    const rows = await outboxAfter(since);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['identity.user.created', 'audit.record'],
    );
    const [event, audit] = rows;
    assert.equal(event!.topic, IDENTITY_EVENTS_TOPIC);
    assert.equal(event!.message_key, `${tenant.id}:${userId}`);
    assert.equal(event!.envelope.tenantId, tenant.id);
    assert.equal(event!.envelope.subject?.type, 'User');
    assert.equal(event!.envelope.subject?.id, userId);
    assert.equal(event!.envelope.actor?.kind, Actor_Kind.USER);
    assert.equal(event!.envelope.actor?.id, tenant.adminUserId);
    assert.equal(event!.envelope.actor?.ip, '192.0.2.10');
    assert.equal(event!.envelope.actor?.userAgent, 'admin-console/1.0');
    assert.equal(event!.envelope.trace?.traceparent.split('-')[1], traceId);
    assert.deepEqual(unpackPayloadAs(event!.envelope, UserCreatedSchema)?.roles, ['tenant_admin']);

    assert.equal(audit!.topic, AUDIT_TOPIC);
    assert.equal(audit!.message_key, tenant.id);
    const record = unpackPayloadAs(audit!.envelope, AuditRecordSchema);
    assert.equal(record?.operation, Operation.CREATE);
    assert.equal(record?.traceId, traceId);
    for (const row of rows) {
      const bytes = row.payload.toString('latin1');
      assert.ok(!bytes.includes(email), 'no e-mail address in the outbox');
      assert.ok(!bytes.includes(GOOD_PASSWORD), 'no password in the outbox');
    }
  });

  test('user update: changed field names only', async () => {
    const created = await harness.gql<{ createUser: { id: string } }>(
      CREATE_USER,
      {
        input: {
          displayName: 'Day Nurse',
          email: randomEmail('day'),
          password: GOOD_PASSWORD,
          roles: ['tenant_admin'],
        },
      },
      adminToken,
    );
    const userId = created.data!.createUser.id;
    const since = await lastId();
    const response = await harness.gql(
      UPDATE_USER,
      { id: userId, input: { displayName: 'Ward Nurse' } },
      adminToken,
    );
    assert.equal(response.errors, undefined);

    const rows = await outboxAfter(since);
    assert.equal(rows[0]?.type, 'identity.user.updated');
    assert.deepEqual(unpackPayloadAs(rows[0]!.envelope, UserUpdatedSchema)?.changedFields, ['displayName']);
    assert.ok(!rows[0]!.payload.toString('latin1').includes('Ward Nurse'), 'no new value in the outbox');
  });

  test('failed login: committed FAILURE record', async () => {
    const since = await lastId();
    const attempted = 'wrong password guess';
    const response = await harness.gql(
      'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
      { input: { tenantSlug: tenant.slug, email: tenant.adminEmail, password: attempted } },
    );
    assert.ok(response.errors?.length);

    const rows = await outboxAfter(since);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['identity.login.failed', 'audit.record'],
    );
    const payload = unpackPayloadAs(rows[0]!.envelope, LoginFailedSchema);
    assert.equal(payload?.reason, LoginFailureReason.BAD_CREDENTIALS);
    assert.equal(payload?.userId, tenant.adminUserId);
    const record = unpackPayloadAs(rows[1]!.envelope, AuditRecordSchema);
    assert.equal(record?.operation, Operation.LOGIN);
    assert.equal(record?.outcome, Outcome.FAILURE);
    for (const row of rows) {
      const bytes = row.payload.toString('latin1');
      assert.ok(!bytes.includes(tenant.adminEmail), 'no login name in the outbox');
      assert.ok(!bytes.includes(attempted), 'no password in the outbox');
    }
  });

  test('user deactivation: SessionRevoked per session', async () => {
    const email = randomEmail('leaver');
    const created = await harness.gql<{ createUser: { id: string } }>(
      CREATE_USER,
      { input: { displayName: 'Leaving Clerk', email, password: GOOD_PASSWORD, roles: ['tenant_admin'] } },
      adminToken,
    );
    assert.equal(created.errors, undefined);
    const userId = created.data!.createUser.id;
    // Two sign-ins, as from two devices, give the user two open sessions.
    for (let i = 0; i < 2; i++)
      await harness.login({ tenantSlug: tenant.slug, email, password: GOOD_PASSWORD });
    const sessions = await admin.query<{ id: string }>(
      'select id from identity.sessions where user_id = $1 and revoked_at is null',
      [userId],
    );
    assert.equal(sessions.rows.length, 2);

    const since = await lastId();
    const response = await harness.gql(
      'mutation ($id: ID!) { deactivateUser(id: $id, reason: "left") { id } }',
      { id: userId },
      adminToken,
    );
    assert.equal(response.errors, undefined);

    const rows = await outboxAfter(since);
    const revoked = rows.filter((row) => row.type === 'identity.session.revoked');
    assert.equal(revoked.length, 2);
    const payloads = revoked.map((row) => unpackPayloadAs(row.envelope, SessionRevokedSchema));
    for (const payload of payloads) {
      assert.equal(payload?.userId, userId);
      assert.equal(payload?.reason, SessionRevokeReason.USER_DEACTIVATED);
    }
    assert.deepEqual(
      payloads.map((payload) => payload?.sessionId).sort(),
      sessions.rows.map((row) => row.id).sort(),
    );
    for (const row of revoked) assert.equal(row.envelope.actor?.id, tenant.adminUserId);

    const records = rows
      .filter((row) => row.type === 'audit.record')
      .map((row) => unpackPayloadAs(row.envelope, AuditRecordSchema))
      .filter((record) => record?.action === 'session.revoke');
    assert.equal(records.length, 2);
    for (const record of records) {
      assert.equal(record?.operation, Operation.SECURITY);
      assert.equal(record?.outcome, Outcome.SUCCESS);
    }
  });

  test('rejected write: no outbox rows', async () => {
    const since = await lastId();
    const response = await harness.gql(
      CREATE_USER,
      {
        input: {
          displayName: 'No Roles',
          email: randomEmail('none'),
          password: GOOD_PASSWORD,
          roles: ['no_such_role'],
        },
      },
      adminToken,
    );
    assert.ok(response.errors?.length);
    assert.equal((await outboxAfter(since)).length, 0);
  });
});
