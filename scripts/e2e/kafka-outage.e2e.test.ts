import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { CLINICAL_EVENTS_TOPIC, decodeEnvelope } from '@hms/proto-schemas';
import { SecondKafka } from '@hms/test-kit/second-kafka';
import { GOOD_PASSWORD } from '../../services/identity/src/testing/harness.js';
import { randomSuffix, startSystem, type System } from './harness.js';

const PATIENTS_DURING_OUTAGE = 5;
const CREATES = `query ($filter: AuditRecordFilter) { auditRecords(filter: $filter, first: 50) { totalCount } }`;

// The whole system runs on a Kafka of this test's own, so stopping it disturbs no other run.
let kafka: SecondKafka;
let system: System;

before(async () => {
  kafka = await SecondKafka.create();
  await kafka.start();
  system = await startSystem({ events: true, kafkaBrokers: kafka.brokers });
});

after(async () => {
  await system?.stop();
  await kafka?.destroy();
});

async function auditCount(token: string, filter: Record<string, unknown>): Promise<number> {
  const response = await system.gateway<{ auditRecords: { totalCount: number } }>(CREATES, { filter }, token);
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data!.auditRecords.totalCount;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Counts the patient-registered events of `tenantId` on the clinical topic, reading it from the start. */
async function countRegisteredEvents(tenantId: string): Promise<number> {
  const client = new Kafka({ clientId: 'e2e-count', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(CLINICAL_EVENTS_TOPIC);
  await admin.disconnect();
  const expected = offsets.reduce(
    (sum, partition) => sum + Number(partition.high) - Number(partition.low),
    0,
  );

  const consumer = client.consumer({ groupId: `e2e-count-${randomSuffix()}` });
  let seen = 0;
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: CLINICAL_EVENTS_TOPIC, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen += 1;
        const envelope = decodeEnvelope(message.value!);
        if (envelope.tenantId === tenantId && envelope.type === 'clinical.patient.registered') count += 1;
        if (seen >= expected) resolve();
      },
    });
  });
  await Promise.race([
    done,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('Reading the clinical topic timed out.')), 30_000),
    ),
  ]);
  await consumer.disconnect();
  return count;
}

test('writes during Kafka outage arrive once', async () => {
  // A tenant and its administrator, signed in while Kafka is up.
  const operator = await system.identity.operatorToken();
  const slug = `outage-${randomSuffix()}`;
  const email = `admin.${randomSuffix()}@example.org`;
  const created = await system.gateway<{ createTenant: { tenant: { id: string } } }>(
    'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
    {
      input: {
        slug,
        name: slug,
        timeZone: 'UTC',
        currency: 'USD',
        admin: { name: 'Admin', email, password: GOOD_PASSWORD },
      },
    },
    operator,
  );
  const tenantId = created.body.data!.createTenant.tenant.id;
  const login = await system.gateway<{ login: { accessToken: string } }>(
    'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
    { input: { tenantSlug: slug, email, password: GOOD_PASSWORD } },
  );
  const token = login.body.data!.login.accessToken;

  // Kafka goes down; registrations through the gateway still succeed.
  await kafka.stop();
  for (let index = 0; index < PATIENTS_DURING_OUTAGE; index += 1) {
    const registered = await system.gateway(
      'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }',
      {
        input: {
          name: { given: ['Outage'], family: `Patient${index}` },
          sex: 'FEMALE',
          birthDate: '1990-01-01',
        },
      },
      token,
    );
    assert.equal(registered.body.errors, undefined, JSON.stringify(registered.body.errors));
  }

  // Kafka comes back; the outbox drains and the audit consumer catches up.
  await kafka.start();
  const filter = { operation: 'CREATE', entityType: 'Patient' };
  await waitUntil(
    async () => (await auditCount(token, filter)) >= PATIENTS_DURING_OUTAGE,
    'the audit records of the outage',
  );

  // Give duplicates, if any, time to show up before counting exactly.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(await auditCount(token, filter), PATIENTS_DURING_OUTAGE);
  assert.equal(await countRegisteredEvents(tenantId), PATIENTS_DURING_OUTAGE);
});
