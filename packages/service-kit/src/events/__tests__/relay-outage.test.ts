import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inTenantTransaction, type MikroORM } from '../../db/orm.js';
import { newId } from '../../ids.js';
import { createEventBus, type EventBus, type Subscription } from '../bus.js';
import { enqueue, EVENT_ID_HEADER } from '../outbox.js';
import { startOutboxRelay, type OutboxRelay } from '../relay.js';
import { SecondKafka } from '@hms/test-kit/second-kafka';
import {
  adminQuery,
  captureLogger,
  collectMessages,
  encodeTestEvent,
  openAppOrm,
  prepareProbeDatabase,
  PROBE_SCHEMA,
  uniqueTopic,
  type ProbeDatabase,
  waitFor,
} from './support.js';

describe('outbox relay during a Kafka outage', { timeout: 240_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;
  let kafka: SecondKafka;
  let bus: EventBus;
  let relay: OutboxRelay | undefined;
  let subscription: Subscription | undefined;
  const { logger, lines } = captureLogger();

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
    kafka = await SecondKafka.create();
    await kafka.start();
    // Few, short client retries so a publish to the stopped broker fails within a second or two.
    bus = createEventBus({
      brokers: kafka.brokers,
      clientId: 'kit-events-outage-test',
      logger,
      retry: { retries: 2, initialRetryTimeMs: 200, maxRetryTimeMs: 1_000 },
    });
  });

  after(async () => {
    await relay?.stop();
    await subscription?.stop();
    await bus?.disconnect();
    await kafka?.destroy();
    await app?.close();
  });

  async function enqueueEvents(topic: string, tenantId: string, count: number): Promise<string[]> {
    const eventIds: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const event = { eventId: newId(), tenantId, type: 'probe.changed', body: `#${index}` };
      await inTenantTransaction(app, tenantId, (em) =>
        enqueue(em, { ...event, topic, key: 'ward-3', payload: encodeTestEvent(event) }),
      );
      eventIds.push(event.eventId);
    }
    return eventIds;
  }

  async function unsentCount(topic: string): Promise<number> {
    const rows = await adminQuery<{ count: number }>(
      database,
      `select count(*)::int as count from ${PROBE_SCHEMA}.outbox where topic = $1 and sent_at is null`,
      [topic],
    );
    return rows[0]?.count ?? -1;
  }

  test('events written while Kafka is down arrive exactly once after it is back', async () => {
    const topic = uniqueTopic('outage');
    const tenantId = newId();
    await bus.ensureTopics([topic]);
    relay = startOutboxRelay({
      databaseUrl: database.relayUrl,
      schema: PROBE_SCHEMA,
      bus,
      logger,
      pollIntervalMs: 100,
      maxBackoffMs: 1_000,
    });

    // Step 1: with Kafka up, the first events go out.
    const beforeOutage = await enqueueEvents(topic, tenantId, 10);
    await waitFor('events published before the outage', async () => (await unsentCount(topic)) === 0);

    // Step 2: Kafka stops; writes still succeed and their events wait in the outbox.
    await kafka.stop();
    const duringOutage = await enqueueEvents(topic, tenantId, 20);
    await waitFor(
      'the relay to retry at least twice',
      () => lines.some((line) => Number(line.failuresInARow) >= 2),
      30_000,
    );
    // The first failure is a warning; the retries after it are rate-limited to debug lines.
    assert.ok(lines.some((line) => line.failuresInARow === 1 && line.level === 40));
    assert.equal(await unsentCount(topic), duringOutage.length);

    // Step 3: Kafka is back; the relay catches up without help.
    await kafka.start();
    await waitFor('events published after the outage', async () => (await unsentCount(topic)) === 0, 60_000);
    assert.ok(
      lines.some((line) => line.msg === 'The outbox relay publishes again after failures.'),
      'the relay logs its recovery',
    );

    // Step 4: every event is on the topic exactly once.
    const collected = await collectMessages(bus, topic);
    subscription = collected.subscription;
    const expected = [...beforeOutage, ...duringOutage];
    await waitFor('all events consumed', () => collected.messages.length >= expected.length, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const received = collected.messages.map((message) => message.headers[EVENT_ID_HEADER]);
    assert.equal(received.length, expected.length);
    // One key, one partition: the order of writing is kept across the outage.
    assert.deepEqual(received, expected);
  });
});
