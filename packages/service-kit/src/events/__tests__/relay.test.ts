import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inTenantTransaction, type MikroORM } from '../../db/orm.js';
import { newId } from '../../ids.js';
import { createEventBus, type EventBus, type Subscription } from '../bus.js';
import { enqueue, EVENT_ID_HEADER } from '../outbox.js';
import { startOutboxRelay, type OutboxRelay } from '../relay.js';
import {
  adminQuery,
  captureLogger,
  collectMessages,
  encodeTestEvent,
  kafkaBrokers,
  openAppOrm,
  prepareProbeDatabase,
  PROBE_SCHEMA,
  uniqueTopic,
  type ProbeDatabase,
  type TestEvent,
  waitFor,
} from './support.js';

describe('outbox relay', { timeout: 120_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;
  let bus: EventBus;
  const topics: string[] = [];
  const relays: OutboxRelay[] = [];
  const subscriptions: Subscription[] = [];
  const { logger } = captureLogger();

  /** Enqueues one event per entry, each in its own transaction, and returns them in write order. */
  async function enqueueEvents(
    topic: string,
    entries: { tenantId: string; key: string }[],
  ): Promise<TestEvent[]> {
    const written: TestEvent[] = [];
    for (const [index, entry] of entries.entries()) {
      const event: TestEvent = {
        eventId: newId(),
        tenantId: entry.tenantId,
        type: 'probe.changed',
        body: `${entry.key}#${index}`,
      };
      await inTenantTransaction(app, entry.tenantId, (em) =>
        enqueue(em, { ...event, topic, key: entry.key, payload: encodeTestEvent(event) }),
      );
      written.push(event);
    }
    return written;
  }

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
    bus = createEventBus({ brokers: kafkaBrokers, clientId: 'kit-events-relay-test', logger });
  });

  after(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await bus?.deleteTopics(topics).catch(() => undefined);
    await bus?.disconnect();
    await app?.close();
  });

  test('relay publishes rows in order per key and marks them sent', async () => {
    const topic = uniqueTopic('relay-order');
    topics.push(topic);
    await bus.ensureTopics([topic], { partitions: 3 });
    const tenantA = newId();
    const tenantB = newId();
    const entries = Array.from({ length: 30 }, (_, index) => ({
      tenantId: index % 2 === 0 ? tenantA : tenantB,
      key: `patient-${index % 3}`,
    }));
    const written = await enqueueEvents(topic, entries);

    const relay = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus,
      logger,
      batchSize: 7,
    });
    relays.push(relay);
    const { messages, subscription } = await collectMessages(bus, topic);
    subscriptions.push(subscription);
    await waitFor('30 published events', () => messages.length >= written.length, 30_000);

    // Per message key, the order on Kafka is the order of writing.
    const byKey = new Map<string, string[]>();
    for (const message of messages) {
      const key = message.key?.toString('utf8') ?? '';
      byKey.set(key, [...(byKey.get(key) ?? []), message.headers[EVENT_ID_HEADER] ?? '']);
    }
    for (const [index, event] of written.entries()) {
      const key = `${event.tenantId}:${entries[index]!.key}`;
      assert.ok(byKey.has(key), `no message with key ${key}`);
    }
    for (const [key, eventIds] of byKey) {
      const expected = written
        .filter((event, index) => `${event.tenantId}:${entries[index]!.key}` === key)
        .map((event) => event.eventId);
      assert.deepEqual(eventIds, expected, `order of key ${key}`);
    }
    assert.deepEqual(
      JSON.parse(messages[0]!.value!.toString('utf8')),
      written.find((event) => event.eventId === messages[0]!.headers[EVENT_ID_HEADER]),
    );

    await waitFor('every row marked sent', async () => {
      const unsent = await adminQuery<{ count: number }>(
        database,
        `select count(*)::int as count from ${PROBE_SCHEMA}.outbox where topic = $1 and sent_at is null`,
        [topic],
      );
      return unsent[0]?.count === 0;
    });
    await relay.stop();
  });

  test('two relays running at once publish every event exactly once', async () => {
    const topic = uniqueTopic('relay-pair');
    topics.push(topic);
    await bus.ensureTopics([topic], { partitions: 2 });
    const tenantId = newId();
    const written = await enqueueEvents(
      topic,
      Array.from({ length: 200 }, (_, index) => ({ tenantId, key: `encounter-${index % 5}` })),
    );

    // Small batches and short polls make the two relays contend for the outbox many times.
    const first = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus,
      logger,
      batchSize: 10,
      pollIntervalMs: 20,
    });
    const second = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus,
      logger,
      batchSize: 10,
      pollIntervalMs: 20,
    });
    relays.push(first, second);
    const { messages, subscription } = await collectMessages(bus, topic);
    subscriptions.push(subscription);
    await waitFor('200 published events', () => messages.length >= written.length, 60_000);

    // Give a duplicate time to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const eventIds = messages.map((message) => message.headers[EVENT_ID_HEADER]);
    assert.equal(messages.length, written.length);
    assert.equal(new Set(eventIds).size, written.length);
    await Promise.all([first.stop(), second.stop()]);
  });

  test('published rows are pruned after pruneAfterMs', async () => {
    const topic = uniqueTopic('relay-prune');
    topics.push(topic);
    const written = await enqueueEvents(
      topic,
      Array.from({ length: 5 }, () => ({ tenantId: newId(), key: 'bed-1' })),
    );
    const countRows = async () =>
      (
        await adminQuery<{ count: number }>(
          database,
          `select count(*)::int as count from ${PROBE_SCHEMA}.outbox where topic = $1`,
          [topic],
        )
      )[0]?.count ?? -1;
    assert.equal(await countRows(), written.length);

    const relay = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus,
      logger,
      pollIntervalMs: 50,
      pruneAfterMs: 300,
    });
    relays.push(relay);
    const { messages, subscription } = await collectMessages(bus, topic);
    subscriptions.push(subscription);
    await waitFor('5 published events', () => messages.length >= written.length, 30_000);
    await waitFor('pruned outbox rows', async () => (await countRows()) === 0, 10_000);
    await relay.stop();
  });

  test('unsent rows are never pruned', async () => {
    // A relay whose bus points at no broker publishes nothing, so its rows stay unsent past pruneAfterMs.
    const topic = uniqueTopic('relay-keep');
    const deadBus = createEventBus({
      brokers: ['127.0.0.1:9'],
      clientId: 'kit-events-relay-test-unreachable',
      logger,
      retry: { retries: 1, initialRetryTimeMs: 50, maxRetryTimeMs: 100 },
    });
    const [event] = await enqueueEvents(topic, [{ tenantId: newId(), key: 'bed-2' }]);
    const relay = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus: deadBus,
      logger,
      pollIntervalMs: 50,
      pruneAfterMs: 1,
      maxBackoffMs: 100,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const rows = await adminQuery<{ sent_at: Date | null }>(
        database,
        `select sent_at from ${PROBE_SCHEMA}.outbox where event_id = $1`,
        [event!.eventId],
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.sent_at, null);
    } finally {
      await relay.stop();
      await deadBus.disconnect();
      // Keep the row from being published by the next test's relay.
      await adminQuery(database, `delete from ${PROBE_SCHEMA}.outbox where event_id = $1`, [event!.eventId]);
    }
  });
});
