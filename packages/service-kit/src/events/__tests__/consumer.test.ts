import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getRequestContext, type RequestContext } from '../../context.js';
import type { MikroORM } from '../../db/orm.js';
import { newId } from '../../ids.js';
import { createEventBus, type EventBus, type IncomingMessage, type Subscription } from '../bus.js';
import {
  DLQ_ATTEMPTS_HEADER,
  DLQ_CONSUMER_HEADER,
  DLQ_REASON_HEADER,
  DLQ_SOURCE_HEADER,
  startConsumer,
  type ConsumerOptions,
  type EventConsumer,
} from '../consumer.js';
import {
  adminQuery,
  captureLogger,
  collectMessages,
  decodeTestEvent,
  encodeTestEvent,
  kafkaBrokers,
  openAppOrm,
  prepareProbeDatabase,
  PROBE_SCHEMA,
  recordEffect,
  uniqueGroupId,
  uniqueTopic,
  type ProbeDatabase,
  type TestEvent,
  waitFor,
} from './support.js';

describe('event consumer', { timeout: 120_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;
  let bus: EventBus;
  const topics: string[] = [];
  const consumers: EventConsumer[] = [];
  const subscriptions: Subscription[] = [];
  const { logger } = captureLogger();

  function newEvent(tenantId: string, body = 'x', type = 'probe.changed'): TestEvent {
    return { eventId: newId(), tenantId, type, body };
  }

  async function newTopic(purpose: string): Promise<string> {
    const topic = uniqueTopic(purpose);
    topics.push(topic, `${topic}.dlq`);
    await bus.ensureTopics([topic]);
    return topic;
  }

  async function publish(topic: string, values: Buffer[]): Promise<void> {
    await bus.publish(
      topic,
      values.map((value) => ({ key: 'probe', value })),
    );
  }

  async function start(
    topic: string,
    overrides: Partial<ConsumerOptions<TestEvent>> = {},
  ): Promise<EventConsumer> {
    const consumer = await startConsumer<TestEvent>({
      bus,
      groupId: uniqueGroupId('consumer'),
      topics: [topic],
      orm: app,
      consumerName: 'probe-consumer',
      decode: decodeTestEvent,
      handle: (event, em) => recordEffect(em, event),
      logger,
      backoff: { initialMs: 20, maxMs: 100 },
      ...overrides,
    });
    consumers.push(consumer);
    return consumer;
  }

  async function effectCounts(eventIds: string[]): Promise<Map<string, number>> {
    const rows = await adminQuery<{ event_id: string; count: number }>(
      database,
      `select event_id, count(*)::int as count from ${PROBE_SCHEMA}.probe_effects where event_id = any($1) group by event_id`,
      [eventIds],
    );
    return new Map(rows.map((row) => [row.event_id, row.count]));
  }

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
    bus = createEventBus({ brokers: kafkaBrokers, clientId: 'kit-events-consumer-test', logger });
  });

  after(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await bus?.deleteTopics(topics).catch(() => undefined);
    await bus?.disconnect();
    await app?.close();
  });

  test('event delivered twice is applied once', async () => {
    const topic = await newTopic('consumer-duplicate');
    const tenantId = newId();
    const events = Array.from({ length: 5 }, (_, index) => newEvent(tenantId, `#${index}`));
    // The third event is published a second time, as a producer retry or a replay would.
    await publish(topic, [...events.map(encodeTestEvent), encodeTestEvent(events[2]!)]);

    const consumer = await start(topic);
    await waitFor('six deliveries', () => consumer.counts.applied + consumer.counts.duplicates >= 6);

    assert.equal(consumer.counts.applied, 5);
    assert.equal(consumer.counts.duplicates, 1);
    const counts = await effectCounts(events.map((event) => event.eventId));
    assert.deepEqual(
      events.map((event) => counts.get(event.eventId)),
      [1, 1, 1, 1, 1],
    );
  });

  test('malformed message goes to the dead-letter topic and the next one is applied', async () => {
    const topic = await newTopic('consumer-malformed');
    const tenantId = newId();
    const first = newEvent(tenantId, 'first');
    const last = newEvent(tenantId, 'last');
    const garbage = Buffer.from('not an envelope');
    const withoutTenant = Buffer.from(JSON.stringify({ eventId: newId(), type: 'probe.changed' }));
    await publish(topic, [encodeTestEvent(first), garbage, withoutTenant, encodeTestEvent(last)]);
    const deadLetters = await collectMessages(bus, `${topic}.dlq`);
    subscriptions.push(deadLetters.subscription);

    const consumer = await start(topic);
    await waitFor(
      'two applied and two dead-lettered',
      () => consumer.counts.applied === 2 && consumer.counts.deadLettered === 2,
    );
    await waitFor('two dead letters', () => deadLetters.messages.length >= 2);

    assert.deepEqual(
      deadLetters.messages.map((message) => message.value),
      [garbage, withoutTenant],
    );
    for (const message of deadLetters.messages) {
      assert.equal(message.headers[DLQ_REASON_HEADER], 'malformed');
      assert.equal(message.headers[DLQ_CONSUMER_HEADER], 'probe-consumer');
      assert.match(
        message.headers[DLQ_SOURCE_HEADER] ?? '',
        new RegExp(`^${topic.replaceAll('.', '\\.')}/0/[12]$`),
      );
      assert.equal(message.key?.toString(), 'probe');
    }
    const counts = await effectCounts([first.eventId, last.eventId]);
    assert.equal(counts.get(first.eventId), 1);
    assert.equal(counts.get(last.eventId), 1);
  });

  test('handler that keeps failing ends in the dead-letter topic after maxAttempts', async () => {
    const topic = await newTopic('consumer-poison');
    const tenantId = newId();
    const poison = newEvent(tenantId, 'poison', 'probe.poison');
    const next = newEvent(tenantId, 'next');
    await publish(topic, [encodeTestEvent(poison), encodeTestEvent(next)]);
    const deadLetters = await collectMessages(bus, `${topic}.dlq`);
    subscriptions.push(deadLetters.subscription);

    let poisonAttempts = 0;
    const consumer = await start(topic, {
      maxAttempts: 3,
      handle: async (event, em) => {
        // The effect is written first, so a leak of a failed attempt's write would show up.
        await recordEffect(em, event);
        if (event.type === 'probe.poison') {
          poisonAttempts += 1;
          throw new Error('the charge master has no price for this test');
        }
      },
    });
    await waitFor(
      'poison dead-lettered and next applied',
      () => consumer.counts.deadLettered === 1 && consumer.counts.applied === 1,
    );
    await waitFor('one dead letter', () => deadLetters.messages.length >= 1);

    assert.equal(poisonAttempts, 3);
    assert.equal(consumer.counts.retries, 2);
    const deadLetter = deadLetters.messages[0]!;
    assert.deepEqual(deadLetter.value, encodeTestEvent(poison));
    assert.equal(deadLetter.headers[DLQ_REASON_HEADER], 'handler-failed');
    assert.equal(deadLetter.headers[DLQ_ATTEMPTS_HEADER], '3');
    const counts = await effectCounts([poison.eventId, next.eventId]);
    assert.equal(counts.get(poison.eventId), undefined, 'failed attempts leave no effect');
    assert.equal(counts.get(next.eventId), 1);
  });

  test('handler runs in the tenant, request context and trace of the event', async () => {
    const topic = await newTopic('consumer-context');
    const tenantA = newId();
    const tenantB = newId();
    const ofA = newEvent(tenantA, 'of A');
    const ofB = newEvent(tenantB, 'of B');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await bus.publish(topic, [
      { key: tenantA, value: encodeTestEvent(ofA), headers: { traceparent } },
      { key: tenantB, value: encodeTestEvent(ofB), headers: { traceparent } },
    ]);

    const seen: { context: RequestContext; visibleEffects: string[]; message: IncomingMessage }[] = [];
    const consumer = await start(topic, {
      handle: async (event, em, message) => {
        await recordEffect(em, event);
        const visible = await em.execute<{ event_id: string }[]>(
          `select event_id from ${PROBE_SCHEMA}.probe_effects where event_id in (?, ?)`,
          [ofA.eventId, ofB.eventId],
        );
        seen.push({
          context: { ...getRequestContext() },
          visibleEffects: visible.map((row) => row.event_id),
          message,
        });
      },
    });
    await waitFor('both events applied', () => consumer.counts.applied === 2);

    const [first, second] = seen;
    assert.deepEqual(first?.context, {
      requestId: ofA.eventId,
      tenantId: tenantA,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    assert.deepEqual(second?.context, {
      requestId: ofB.eventId,
      tenantId: tenantB,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    // Row-level security scopes the handler to the event's tenant: B's handler cannot see A's effect.
    assert.deepEqual(first?.visibleEffects, [ofA.eventId]);
    assert.deepEqual(second?.visibleEffects, [ofB.eventId]);
    assert.equal(first?.message.headers.traceparent, traceparent);
  });

  test('stop commits the offsets of applied messages', async () => {
    const topic = await newTopic('consumer-stop');
    const tenantId = newId();
    const groupId = uniqueGroupId('consumer-stop');
    const earlier = Array.from({ length: 3 }, (_, index) => newEvent(tenantId, `#${index}`));
    await publish(topic, earlier.map(encodeTestEvent));

    const first = await start(topic, { groupId });
    await waitFor('three applied', () => first.counts.applied === 3);
    await first.stop();

    // A new member of the group starts after the committed offsets, so it receives only the new event.
    const later = newEvent(tenantId, 'later');
    await publish(topic, [encodeTestEvent(later)]);
    const second = await start(topic, { groupId });
    await waitFor('the new event applied', () => second.counts.applied === 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(second.counts.duplicates, 0);
    assert.equal(second.counts.applied, 1);
  });
});
