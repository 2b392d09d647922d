import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  create,
  dlqTopic,
  encodeEnvelope,
  EventEnvelopeSchema,
  packPayload,
  timestampFromDate,
  UserCreatedSchema,
  UserDeactivatedSchema,
  UserReactivatedSchema,
  type Any,
  type EventEnvelope,
} from '@hms/proto-schemas';
import {
  createEventBus,
  createLogger,
  createOrm,
  newId,
  type EventBus,
  type EventConsumer,
  type MikroORM,
} from '@hms/service-kit';
import { entities } from '../../entities/index.js';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  ADMIT,
  createWard,
  firstError,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  type TestTenant,
} from '../../encounters/__tests__/support.js';
import { NOT_AN_ACTIVE_USER, startUserReplicaConsumer } from '../user-replica.js';

/** Kafka of the local infrastructure (infra/start); this test needs it running. */
const kafkaBrokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const UPDATE_ENCOUNTER = `
  mutation Update($id: ID!, $input: UpdateEncounterInput!) { updateEncounter(id: $id, input: $input) { id attending { id } } }
`;
const RECORD_PAST_ADMISSION = `
  mutation Past($input: RecordPastAdmissionInput!) { recordPastAdmission(input: $input) { id attending { id } } }
`;

/** Polls `check` until it returns true, for at most `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`The condition did not hold within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('attending users from identity events', () => {
  // A topic and group of this run only, so the test neither takes nor leaves events for others.
  const topic = `hms.identity.events.v1.test-${newId()}`;
  const logger = createLogger('clinical-test', process.env.HMS_LOG_LEVEL ?? 'warn');
  let harness: ClinicalHarness;
  let admin: pg.Client;
  let orm: MikroORM;
  let bus: EventBus;
  let consumer: EventConsumer;

  before(async () => {
    harness = await startHarness();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    orm = await createOrm({ clientUrl: harness.database.appUrl, schema: 'clinical', entities });
    bus = createEventBus({ brokers: kafkaBrokers, clientId: 'clinical-test', logger });
    consumer = await startUserReplicaConsumer({
      bus,
      orm,
      logger,
      topic,
      groupId: `hms-clinical-users-test-${newId()}`,
    });
  });

  after(async () => {
    await consumer?.stop();
    await bus?.deleteTopics([topic, dlqTopic(topic)]).catch(() => undefined);
    await bus?.disconnect();
    await orm?.close();
    await admin?.end();
    await harness?.stop();
  });

  const envelopeOf = (tenantId: string, userId: string, type: string, payload: Any, occurredAt: Date) =>
    create(EventEnvelopeSchema, {
      eventId: newId(),
      type,
      occurredAt: timestampFromDate(occurredAt),
      producer: 'identity',
      tenantId,
      subject: { type: 'User', id: userId },
      payload,
    });

  /** Publishes identity events on the test topic, keyed by user as identity keys user events. */
  const publish = async (...envelopes: EventEnvelope[]) => {
    await bus.publish(
      topic,
      envelopes.map((envelope) => ({
        key: `${envelope.tenantId}:${envelope.subject!.id}`,
        value: Buffer.from(encodeEnvelope(envelope)),
        headers: {},
      })),
    );
  };

  const created = (tenantId: string, userId: string, at = new Date()) =>
    envelopeOf(
      tenantId,
      userId,
      'identity.user.created',
      packPayload(UserCreatedSchema, create(UserCreatedSchema, { userId, roles: ['doctor'] })),
      at,
    );
  const deactivated = (tenantId: string, userId: string, at = new Date()) =>
    envelopeOf(
      tenantId,
      userId,
      'identity.user.deactivated',
      packPayload(UserDeactivatedSchema, create(UserDeactivatedSchema, { userId })),
      at,
    );
  const reactivated = (tenantId: string, userId: string, at = new Date()) =>
    envelopeOf(
      tenantId,
      userId,
      'identity.user.reactivated',
      packPayload(UserReactivatedSchema, create(UserReactivatedSchema, { userId })),
      at,
    );

  const userRow = async (tenantId: string, userId: string) => {
    const { rows } = await admin.query<{ active: boolean; roles: string[] }>(
      'select active, roles from clinical.users where tenant_id = $1 and id = $2',
      [tenantId, userId],
    );
    return rows[0];
  };

  /** Publishes a doctor of the tenant and waits until clinical has copied them. */
  const newDoctor = async (tenantId: string): Promise<string> => {
    const userId = newId();
    await publish(created(tenantId, userId));
    await eventually(async () => (await userRow(tenantId, userId))?.active === true);
    return userId;
  };

  const openWithAttending = (tenant: TestTenant, patientId: string, attendingId: string) =>
    harness.graphql<{ openEncounter: { attending: { id: string } } }>(
      OPEN_ENCOUNTER,
      { input: { patientId, attendingId } },
      tenant.tokens.doctor,
    );

  test('active user of the tenant: attending', async () => {
    const tenant = await newTenant(harness);
    const doctorId = await newDoctor(tenant.tenantId);
    const patientId = await registerPatient(harness, tenant);

    const { body } = await openWithAttending(tenant, patientId, doctorId);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.openEncounter.attending.id, doctorId);
  });

  test('cross-tenant user: rejected like a missing one', async () => {
    const tenant = await newTenant(harness);
    const other = await newTenant(harness);
    const otherDoctorId = await newDoctor(other.tenantId);
    const patientId = await registerPatient(harness, tenant);

    const crossTenant = await openWithAttending(tenant, patientId, otherDoctorId);
    const missing = await openWithAttending(tenant, patientId, newId());

    assert.equal(crossTenant.body.data, null);
    assert.equal(firstError(crossTenant.body).code, 'BAD_USER_INPUT');
    assert.deepEqual(firstError(crossTenant.body).fields, [
      { field: 'input.attendingId', message: NOT_AN_ACTIVE_USER },
    ]);
    assert.deepEqual(crossTenant.body.errors?.[0]?.message, missing.body.errors?.[0]?.message);
    assert.deepEqual(firstError(crossTenant.body), firstError(missing.body));
  });

  test('deactivated user: rejected on every mutation', async () => {
    const tenant = await newTenant(harness);
    const doctorId = await newDoctor(tenant.tenantId);
    const patientId = await registerPatient(harness, tenant);
    const open = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    const ward = await createWard(harness, tenant, ['B1']);

    await publish(deactivated(tenant.tenantId, doctorId));
    await eventually(async () => (await userRow(tenant.tenantId, doctorId))?.active === false);

    const opened = await openWithAttending(tenant, patientId, doctorId);
    const updated = await harness.graphql(
      UPDATE_ENCOUNTER,
      { id: open.openEncounter.id, input: { attendingId: doctorId } },
      tenant.tokens.doctor,
    );
    const admitted = await harness.graphql(
      ADMIT,
      { input: { patientId, bedId: ward.beds.B1, attendingId: doctorId } },
      tenant.tokens.doctor,
    );
    const past = await harness.graphql(
      RECORD_PAST_ADMISSION,
      {
        input: {
          patientId,
          wardId: ward.id,
          admittedAt: new Date(Date.now() - 3 * 86_400_000).toISOString(),
          dischargedAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
          attendingId: doctorId,
        },
      },
      tenant.tokens.doctor,
    );

    for (const [name, body] of [
      ['openEncounter', opened.body],
      ['updateEncounter', updated.body],
      ['admitPatient', admitted.body],
      ['recordPastAdmission', past.body],
    ] as const) {
      assert.equal(firstError(body).code, 'BAD_USER_INPUT', name);
      assert.deepEqual(
        firstError(body).fields,
        [{ field: 'input.attendingId', message: NOT_AN_ACTIVE_USER }],
        name,
      );
    }
    const { rows } = await admin.query<{ count: string }>(
      'select count(*)::text as count from clinical.encounters where tenant_id = $1 and attending_id = $2',
      [tenant.tenantId, doctorId],
    );
    assert.equal(rows[0]!.count, '0', 'no rejected write is stored');
  });

  test('replayed events: applied once, older ones ignored', async () => {
    const tenantId = newId();
    const userId = newId();
    const createdAt = new Date(Date.now() - 60_000);
    const creation = created(tenantId, userId, createdAt);
    const deactivation = deactivated(tenantId, userId, new Date(createdAt.getTime() + 1_000));
    const reactivation = reactivated(tenantId, userId, new Date(createdAt.getTime() + 2_000));
    await publish(creation, deactivation, reactivation);
    await eventually(async () => {
      const { rows } = await admin.query<{ count: string }>(
        'select count(*)::text as count from clinical.applied_events where tenant_id = $1',
        [tenantId],
      );
      return rows[0]!.count === '3';
    });
    assert.equal((await userRow(tenantId, userId))?.active, true);
    const duplicatesBefore = consumer.counts.duplicates;

    // The same deactivation delivered again, as after a consumer restart, and an older deactivation
    // replayed under a new event id, as from the dead-letter topic.
    const olderDeactivation = deactivated(tenantId, userId, new Date(createdAt.getTime() + 1_500));
    await publish(deactivation, olderDeactivation);
    await eventually(async () => consumer.counts.duplicates > duplicatesBefore);
    await eventually(async () => {
      const { rows } = await admin.query<{ count: string }>(
        'select count(*)::text as count from clinical.applied_events where tenant_id = $1',
        [tenantId],
      );
      return rows[0]!.count === '4';
    });

    const row = await userRow(tenantId, userId);
    assert.equal(row?.active, true, 'neither replay deactivates the reactivated user');
    assert.deepEqual(row?.roles, ['doctor']);
    assert.equal(consumer.counts.deadLettered, 0);
  });
});
