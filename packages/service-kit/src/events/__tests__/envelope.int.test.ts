// The whole event path with the real envelope of @hms/proto-schemas. A change and its event are
// written in one transaction and the relay publishes the event. The consumer then decodes and applies
// it once, in the tenant and trace of the request that wrote it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  create,
  decodeEnvelope,
  dlqTopic,
  encodeEnvelope,
  EventEnvelopeSchema,
  packPayload,
  PatientRegisteredSchema,
  timestampFromDate,
  unpackPayloadAs,
  type EventEnvelope,
} from '@hms/proto-schemas';
import { getRequestContext, runWithContext, type RequestContext } from '../../context.js';
import { inTenantTransaction, type MikroORM } from '../../db/orm.js';
import { newId } from '../../ids.js';
import { createEventBus, type EventBus, type Subscription } from '../bus.js';
import { DLQ_REASON_HEADER, startConsumer, type EventConsumer } from '../consumer.js';
import { enqueue } from '../outbox.js';
import { startOutboxRelay, type OutboxRelay } from '../relay.js';
import { currentTraceHeaders } from '../trace.js';
import {
  adminQuery,
  captureLogger,
  collectMessages,
  kafkaBrokers,
  openAppOrm,
  prepareProbeDatabase,
  PROBE_SCHEMA,
  ProbeChange,
  uniqueGroupId,
  uniqueTopic,
  type ProbeDatabase,
  waitFor,
} from './support.js';

describe('event envelope through outbox, relay and consumer', { timeout: 90_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;
  let bus: EventBus;
  let relay: OutboxRelay | undefined;
  let consumer: EventConsumer | undefined;
  let deadLetters: Subscription | undefined;
  const topic = uniqueTopic('envelope');
  const { logger } = captureLogger();

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
    bus = createEventBus({ brokers: kafkaBrokers, clientId: 'kit-events-envelope-test', logger });
    await bus.ensureTopics([topic]);
  });

  after(async () => {
    await relay?.stop();
    await consumer?.stop();
    await deadLetters?.stop();
    await bus?.deleteTopics([topic, dlqTopic(topic)]).catch(() => undefined);
    await bus?.disconnect();
    await app?.close();
  });

  test('registered patient event reaches the consumer once, in its tenant and trace', async () => {
    const tenantId = newId();
    const patientId = newId();
    const eventId = newId();
    const traceId = '0af7651916cd43dd8448eb211c80319c';

    // Step 1: the "clinical" write: the change and its envelope in one tenant transaction.
    await runWithContext({ requestId: newId(), tenantId, traceId }, () =>
      inTenantTransaction(app, tenantId, async (em) => {
        em.create(ProbeChange, { id: patientId, tenantId, body: 'registered' });
        const trace = currentTraceHeaders();
        const envelope = create(EventEnvelopeSchema, {
          eventId,
          type: 'clinical.patient.registered',
          tenantId,
          occurredAt: timestampFromDate(new Date()),
          producer: 'clinical',
          subject: { type: 'Patient', id: patientId },
          trace: { traceparent: trace.traceparent ?? '', tracestate: trace.tracestate ?? '' },
          payload: packPayload(
            PatientRegisteredSchema,
            create(PatientRegisteredSchema, { patientId, mrn: 'MRN-1' }),
          ),
        });
        await enqueue(em, {
          eventId,
          tenantId,
          type: envelope.type,
          topic,
          key: patientId,
          payload: encodeEnvelope(envelope),
          headers: trace,
        });
      }),
    );

    // Step 2: bytes that are no envelope, published directly, must not stop the consumer.
    await bus.publish(topic, [{ key: tenantId, value: Buffer.from('definitely not protobuf') }]);
    const dead = await collectMessages(bus, dlqTopic(topic));
    deadLetters = dead.subscription;

    // Step 3: relay and consumer run; the handler records what it saw.
    relay = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus,
      logger,
      pollIntervalMs: 50,
    });
    const seen: { envelope: EventEnvelope; context: RequestContext; mrn?: string }[] = [];
    consumer = await startConsumer<EventEnvelope>({
      bus,
      groupId: uniqueGroupId('envelope'),
      topics: [topic],
      orm: app,
      consumerName: 'billing-probe',
      decode: decodeEnvelope,
      logger,
      handle: async (envelope, em) => {
        const payload = unpackPayloadAs(envelope, PatientRegisteredSchema);
        await em.execute(
          `insert into ${PROBE_SCHEMA}.probe_effects (tenant_id, event_id, body) values (?, ?, ?)`,
          [envelope.tenantId, envelope.eventId, payload?.patientId ?? ''],
        );
        seen.push({ envelope, context: { ...getRequestContext() }, mrn: payload?.mrn });
      },
    });
    const running = consumer;
    await waitFor(
      'the event applied and the garbage dead-lettered',
      () => running.counts.applied === 1 && running.counts.deadLettered === 1,
    );

    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.envelope.eventId, eventId);
    assert.equal(seen[0]?.envelope.subject?.id, patientId);
    assert.equal(seen[0]?.mrn, 'MRN-1');
    assert.deepEqual(seen[0]?.context, { requestId: eventId, tenantId, traceId });
    const effects = await adminQuery<{ body: string }>(
      database,
      `select body from ${PROBE_SCHEMA}.probe_effects where event_id = $1`,
      [eventId],
    );
    assert.deepEqual(
      effects.map((effect) => effect.body),
      [patientId],
    );
    await waitFor('the dead letter', () => dead.messages.length === 1);
    assert.equal(dead.messages[0]?.headers[DLQ_REASON_HEADER], 'malformed');
  });
});
