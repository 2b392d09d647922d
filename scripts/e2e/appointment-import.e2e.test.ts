import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  CLINICAL_EVENTS_TOPIC,
  create,
  encodeEnvelope,
  EventEnvelopeSchema,
  IDENTITY_EVENTS_TOPIC,
  packPayload,
  PatientRegisteredSchema,
  timestampFromDate,
  UserCreatedSchema,
  type Any,
} from '@hms/proto-schemas';
import { createEventBus, createLogger, newId, type EventBus } from '@hms/service-kit';
import { importAppointments } from '../fhir-import/appointments.js';
import { importFhir } from '../fhir-import/import.js';
import { GOOD_PASSWORD } from '../../services/identity/src/testing/harness.js';
import { KAFKA_BROKERS, randomSuffix, startSystem, type System } from './harness.js';

const FIXTURES = fileURLToPath(new URL('../fhir-import/fixtures/', import.meta.url));

describe('Synthea encounters as appointments', () => {
  let system: System;
  let bus: EventBus;
  let admin: pg.Client;

  before(async () => {
    system = await startSystem({ events: true });
    bus = createEventBus({
      brokers: KAFKA_BROKERS.split(','),
      clientId: 'e2e-probe',
      logger: createLogger('e2e', 'silent'),
    });
    admin = new pg.Client({ connectionString: system.schedulingDatabase.adminUrl });
    await admin.connect();
    await waitForSchedulingConsumers();
  });

  after(async () => {
    await admin?.end();
    await bus?.disconnect();
    await system?.stop();
  });

  /**
   * Waits until scheduling's consumers, which start at the newest events, read what is published
   * now: probe events of a tenant of their own are sent until both replicas contain them.
   */
  async function waitForSchedulingConsumers(): Promise<void> {
    const tenantId = newId();
    const userId = newId();
    const patientId = newId();
    const envelope = (type: string, payload: Any) =>
      Buffer.from(
        encodeEnvelope(
          create(EventEnvelopeSchema, {
            eventId: newId(),
            type,
            occurredAt: timestampFromDate(new Date()),
            producer: 'e2e',
            tenantId,
            subject: { type: 'Probe', id: tenantId },
            payload,
          }),
        ),
      );
    const deadline = Date.now() + 60_000;
    for (;;) {
      await bus.publish(IDENTITY_EVENTS_TOPIC, [
        {
          key: tenantId,
          value: envelope(
            'identity.user.created',
            packPayload(UserCreatedSchema, create(UserCreatedSchema, { userId })),
          ),
          headers: {},
        },
      ]);
      await bus.publish(CLINICAL_EVENTS_TOPIC, [
        {
          key: tenantId,
          value: envelope(
            'clinical.patient.registered',
            packPayload(PatientRegisteredSchema, create(PatientRegisteredSchema, { patientId })),
          ),
          headers: {},
        },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const seen = await admin.query(
        `select (select count(*) from scheduling.practitioners where id = $1) + (select count(*) from scheduling.patients where id = $2) as n`,
        [userId, patientId],
      );
      if (Number(seen.rows[0].n) === 2) return;
      if (Date.now() > deadline)
        throw new Error('Scheduling consumers did not read the probe events within 60 s.');
    }
  }

  test('second run creates nothing', async () => {
    // A tenant, its administrator and the fixture patients, through the gateway.
    const operator = await system.identity.operatorToken();
    const slug = `appt-${randomSuffix()}`;
    const email = `admin.${randomSuffix()}@example.org`;
    const created = await system.gateway<{ createTenant: { tenant: { id: string } } }>(
      'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
      {
        input: {
          slug,
          name: `Import ${slug}`,
          timeZone: 'America/New_York',
          currency: 'USD',
          admin: { name: 'Admin', email, password: GOOD_PASSWORD },
        },
      },
      operator,
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const options = {
      gatewayUrl: system.gatewayUrl,
      tenantSlug: slug,
      email,
      password: GOOD_PASSWORD,
      paths: [FIXTURES],
      log: () => {},
    };
    // The patients alone: a tenant_admin may not write encounters, and the history import has its
    // own end-to-end test.
    const patients = await importFhir({ ...options, history: false, now: new Date('2026-12-01T00:00:00Z') });
    assert.equal(patients.failed, 0, JSON.stringify(patients.failures));

    // Encounters become completed appointments; the practitioners become doctors. The fixtures'
    // encounters fit in one batch, so the run waits for scheduling's replicas at most once.
    const lines: string[] = [];
    const first = await importAppointments({
      ...options,
      retryBaseDelayMs: 50,
      log: (line) => lines.push(line),
    });
    const second = await importAppointments({ ...options, retryBaseDelayMs: 50 });

    assert.equal(first.failed, 0, JSON.stringify(first.failures));
    assert.equal(first.created, patients.created);
    assert.ok(lines.filter((line) => line.startsWith('Waiting')).length <= 1, lines.join('\n'));
    assert.ok(first.practitionersCreated > 0);
    assert.equal(second.created, 0);
    assert.equal(second.existing, first.created);
    assert.equal(second.practitionersCreated, 0);
    assert.equal(second.failed, 0, JSON.stringify(second.failures));

    // The patients' appointments through the graph, with their practitioners from identity.
    const login = await system.gateway<{ login: { accessToken: string } }>(
      'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
      { input: { tenantSlug: slug, email, password: GOOD_PASSWORD } },
    );
    const token = login.body.data!.login.accessToken;
    const listed = await system.gateway<{
      patients: {
        edges: {
          node: {
            appointments: {
              edges: {
                node: {
                  status: string;
                  kind: string;
                  sourceId: string;
                  practitioner: { displayName: string };
                };
              }[];
            };
          };
        }[];
      };
    }>(
      '{ patients(first: 10) { edges { node { appointments { edges { node { status kind sourceId practitioner { displayName } } } } } } } }',
      {},
      token,
    );
    assert.equal(listed.body.errors, undefined, JSON.stringify(listed.body.errors));
    const appointments = listed.body.data!.patients.edges.flatMap((edge) =>
      edge.node.appointments.edges.map((inner) => inner.node),
    );
    assert.equal(appointments.length, first.created);
    for (const appointment of appointments) {
      assert.equal(appointment.status, 'COMPLETED');
      assert.equal(appointment.kind, 'IMPORTED');
      assert.match(appointment.sourceId, /^synthea:Encounter\/[0-9a-f-]{36}$/);
      assert.match(appointment.practitioner.displayName, /\S/);
    }
  });
});
