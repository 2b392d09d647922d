import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  create,
  dlqTopic,
  encodeEnvelope,
  packPayload,
  PatientRegisteredSchema,
  TenantCreatedSchema,
  TenantStatus,
  TenantStatusChangedSchema,
  UserCreatedSchema,
  UserDeactivatedSchema,
  UserReactivatedSchema,
  type EventEnvelope,
} from '@hms/proto-schemas';
import { createEventBus, createLogger, inTenantTransaction, newId, type EventBus } from '@hms/service-kit';
import { envelopeOf, startHarness, testKafkaBrokers, type SchedulingHarness } from '../../testing/harness.js';
import {
  BOOK,
  errorCode,
  invalidFields,
  MONDAY,
  SET_SCHEDULE,
  weekdaySchedule,
} from '../../testing/fixtures.js';

/** Polls `check` until it returns true, for at most `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`The condition did not hold within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('consumers of identity and clinical events', () => {
  // Topics and groups of this run only, so the test neither takes nor leaves events for others.
  const run = newId();
  const identityTopic = `hms.identity.events.v1.test-${run}`;
  const clinicalTopic = `hms.clinical.events.v1.test-${run}`;
  let harness: SchedulingHarness;
  let bus: EventBus;

  before(async () => {
    harness = await startHarness({
      kafkaBrokers: testKafkaBrokers,
      consumers: { identityTopic, clinicalTopic, groupSuffix: run },
    });
    bus = createEventBus({
      brokers: testKafkaBrokers,
      clientId: 'scheduling-test',
      logger: createLogger('scheduling-test', process.env.HMS_LOG_LEVEL ?? 'warn'),
    });
    await Promise.all(harness.running.consumers.map((consumer) => consumer.started));
  });

  after(async () => {
    await harness?.stop();
    await bus
      ?.deleteTopics([identityTopic, dlqTopic(identityTopic), clinicalTopic, dlqTopic(clinicalTopic)])
      .catch(() => undefined);
    await bus?.disconnect();
  });

  const publish = (topic: string, envelope: EventEnvelope) =>
    bus.publish(topic, [
      {
        key: `${envelope.tenantId}:${envelope.tenantId}`,
        value: Buffer.from(encodeEnvelope(envelope)),
        headers: {},
      },
    ]);

  const count = (tenantId: string, sql: string) =>
    inTenantTransaction(harness.orm, tenantId, async (em) => (await em.execute<{ n: string }[]>(sql))[0]!.n);

  test('practitioner, patient and tenant from events', async () => {
    const tenantId = newId();
    const practitionerId = newId();
    const patientId = newId();
    const token = await harness.token(tenantId);

    const created = envelopeOf(
      tenantId,
      'identity.tenant.created',
      packPayload(
        TenantCreatedSchema,
        create(TenantCreatedSchema, {
          tenantId,
          slug: 'consumer-test',
          status: TenantStatus.ACTIVE,
          readAuditEnabled: true,
          ageOfMajority: 18,
          timeZone: 'Europe/Berlin',
        }),
      ),
    );
    await publish(identityTopic, created);
    const userCreated = envelopeOf(
      tenantId,
      'identity.user.created',
      packPayload(
        UserCreatedSchema,
        create(UserCreatedSchema, { userId: practitionerId, roles: ['doctor'] }),
      ),
    );
    await publish(identityTopic, userCreated);
    // A second delivery of the same event is recognised and applied once.
    await publish(identityTopic, userCreated);
    await publish(
      clinicalTopic,
      envelopeOf(
        tenantId,
        'clinical.patient.registered',
        packPayload(
          PatientRegisteredSchema,
          create(PatientRegisteredSchema, { patientId, mrn: 'MRN-000001' }),
        ),
      ),
    );
    await eventually(
      async () =>
        (await count(
          tenantId,
          "select count(*)::text as n from scheduling.tenant_settings where time_zone = 'Europe/Berlin'",
        )) === '1' &&
        (await count(tenantId, 'select count(*)::text as n from scheduling.practitioners')) === '1' &&
        (await count(tenantId, 'select count(*)::text as n from scheduling.patients')) === '1',
    );

    const schedule = await harness.graphql<{ setSchedule: { timeZone: string } }>(
      SET_SCHEDULE,
      { input: weekdaySchedule(practitionerId) },
      token,
    );
    const booked = await harness.graphql<{ bookAppointment: { id: string; localStart: string } }>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T07:00:00Z` } },
      token,
    );
    assert.equal(schedule.body.data!.setSchedule.timeZone, 'Europe/Berlin');
    assert.equal(booked.body.data!.bookAppointment.localStart, `${MONDAY}T09:00:00+02:00`);
    const applied = await count(
      tenantId,
      "select count(*)::text as n from scheduling.applied_events where consumer = 'identity'",
    );
    assert.equal(applied, '2');

    // Deactivated: no new bookings, and the future appointment is listed for rebooking.
    await publish(
      identityTopic,
      envelopeOf(
        tenantId,
        'identity.user.deactivated',
        packPayload(UserDeactivatedSchema, create(UserDeactivatedSchema, { userId: practitionerId })),
      ),
    );
    await eventually(
      async () =>
        (await count(
          tenantId,
          'select count(*)::text as n from scheduling.practitioners where not active',
        )) === '1',
    );
    const refused = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T08:00:00Z` } },
      token,
    );
    const rebook = await harness.graphql<{
      appointmentsToRebook: { totalCount: number; edges: { node: { id: string } }[] };
    }>('{ appointmentsToRebook { totalCount edges { node { id } } } }', {}, token);
    assert.deepEqual(invalidFields(refused.body), ['input.practitionerId']);
    assert.equal(rebook.body.data!.appointmentsToRebook.totalCount, 1);
    assert.equal(
      rebook.body.data!.appointmentsToRebook.edges[0]!.node.id,
      booked.body.data!.bookAppointment.id,
    );

    // Reactivated, then the tenant suspended: bookings are refused for the tenant.
    await publish(
      identityTopic,
      envelopeOf(
        tenantId,
        'identity.user.reactivated',
        packPayload(UserReactivatedSchema, create(UserReactivatedSchema, { userId: practitionerId })),
      ),
    );
    await publish(
      identityTopic,
      envelopeOf(
        tenantId,
        'identity.tenant.status_changed',
        packPayload(
          TenantStatusChangedSchema,
          create(TenantStatusChangedSchema, {
            tenantId,
            oldStatus: TenantStatus.ACTIVE,
            newStatus: TenantStatus.SUSPENDED,
            reason: 'unpaid invoices',
          }),
        ),
      ),
    );
    await eventually(
      async () =>
        (await count(
          tenantId,
          "select count(*)::text as n from scheduling.tenant_settings where status = 'SUSPENDED'",
        )) === '1',
    );
    const suspended = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T08:00:00Z` } },
      token,
    );
    const imported = await harness.graphql(
      `mutation { importPastAppointment(input: { sourceId: "synthea:Encounter/x", practitionerId: "${practitionerId}",
        patientId: "${patientId}", startsAt: "2020-01-01T10:00:00Z", endsAt: "2020-01-01T10:30:00Z" }) { id } }`,
      {},
      token,
    );
    assert.equal(errorCode(suspended.body), 'TENANT_SUSPENDED');
    assert.equal(errorCode(imported.body), 'TENANT_SUSPENDED');
    assert.equal(
      await count(tenantId, 'select count(*)::text as n from scheduling.practitioners where active'),
      '1',
    );
  });
});
