import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  create,
  dlqTopic,
  encodeEnvelope,
  EventEnvelopeSchema,
  packPayload,
  TenantSettingsChangedSchema,
  timestampFromDate,
  UserCreatedSchema,
  type Any,
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
import { adultInput, birthDateForAge, GET_PATIENT, REGISTER_PATIENT } from '../../testing/fixtures.js';
import { startTenantSettingsConsumer } from '../settings-consumer.js';

/** Kafka of the local infrastructure (infra/start); this test needs it running. */
const kafkaBrokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

interface SettingsRow {
  read_audit_enabled: boolean;
  age_of_majority: number;
  time_zone: string;
}

/** Polls `check` until it returns true, for at most `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`The condition did not hold within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('tenant settings from identity events', () => {
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
    consumer = await startTenantSettingsConsumer({
      bus,
      orm,
      logger,
      topic,
      groupId: `hms-clinical-tenant-settings-test-${newId()}`,
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

  /** Publishes an identity event of `tenantId` on the test topic, keyed as identity keys tenant events. */
  const publish = async (tenantId: string, type: string, payload: Any) => {
    const envelope = create(EventEnvelopeSchema, {
      eventId: newId(),
      type,
      occurredAt: timestampFromDate(new Date()),
      producer: 'identity',
      tenantId,
      subject: { type: 'Tenant', id: tenantId },
      payload,
    });
    await bus.publish(topic, [
      { key: `${tenantId}:${tenantId}`, value: Buffer.from(encodeEnvelope(envelope)), headers: {} },
    ]);
  };

  const settingsOf = async (tenantId: string) => {
    const { rows } = await admin.query<SettingsRow>(
      'select read_audit_enabled, age_of_majority, time_zone from clinical.tenant_settings where tenant_id = $1',
      [tenantId],
    );
    return rows[0];
  };

  const outboxCount = async (tenantId: string) => {
    const { rows } = await admin.query<{ count: string }>(
      'select count(*)::text as count from clinical.outbox where tenant_id = $1',
      [tenantId],
    );
    return Number(rows[0]!.count);
  };

  test('settings change: row, reads, minors', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    // Registered under the default age of majority (18), so no guardian is needed.
    const { body: registered } = await harness.graphql<{ registerPatient: { id: string; isMinor: boolean } }>(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: birthDateForAge(19) }) },
      token,
    );
    assert.equal(registered.errors, undefined);
    assert.equal(registered.data!.registerPatient.isMinor, false);

    await publish(
      tenantId,
      'identity.tenant.settings_changed',
      packPayload(
        TenantSettingsChangedSchema,
        create(TenantSettingsChangedSchema, {
          tenantId,
          changedSettings: ['readAuditEnabled', 'ageOfMajority'],
          readAuditEnabled: false,
          ageOfMajority: 21,
          timeZone: 'Asia/Kolkata',
        }),
      ),
    );
    await eventually(async () => (await settingsOf(tenantId))?.age_of_majority === 21);
    const row = await settingsOf(tenantId);
    assert.equal(row?.read_audit_enabled, false);
    assert.equal(row?.age_of_majority, 21);
    assert.equal(row?.time_zone, 'Asia/Kolkata');

    const written = await outboxCount(tenantId);
    const { body } = await harness.graphql<{ patient: { isMinor: boolean; ageOfMajority: number } }>(
      GET_PATIENT,
      { id: registered.data!.registerPatient.id },
      token,
    );
    assert.equal(body.errors, undefined);
    assert.equal(body.data!.patient.ageOfMajority, 21);
    assert.equal(body.data!.patient.isMinor, true);
    assert.equal(await outboxCount(tenantId), written, 'a read with read audit off writes no outbox rows');
  });

  test('other event types: no row', async () => {
    const tenantId = newId();
    const appliedBefore = consumer.counts.applied;

    await publish(
      tenantId,
      'identity.user.created',
      packPayload(UserCreatedSchema, create(UserCreatedSchema, { userId: newId(), roles: ['tenant_admin'] })),
    );
    await eventually(async () => consumer.counts.applied > appliedBefore);
    assert.equal(await settingsOf(tenantId), undefined);
    assert.equal(consumer.counts.deadLettered, 0);
  });
});
