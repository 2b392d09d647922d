import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '../../db/orm.js';
import { newId } from '../../ids.js';
import { createEventBus, type EventBus } from '../bus.js';
import { startConsumer, type EventConsumer } from '../consumer.js';
import {
  adminQuery,
  captureLogger,
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

const childScript = fileURLToPath(new URL('./consumer-crash-child.ts', import.meta.url));

describe('event consumer after a crash', { timeout: 120_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;
  let bus: EventBus;
  let child: ChildProcess | undefined;
  let restarted: EventConsumer | undefined;
  const topic = uniqueTopic('consumer-crash');
  const { logger } = captureLogger();

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
    bus = createEventBus({ brokers: kafkaBrokers, clientId: 'kit-events-crash-test', logger });
  });

  after(async () => {
    child?.kill('SIGKILL');
    await restarted?.stop();
    await bus?.deleteTopics([topic]).catch(() => undefined);
    await bus?.disconnect();
    await app?.close();
  });

  test('crash between effect commit and offset commit applies each event once', async () => {
    const tenantId = newId();
    const events: TestEvent[] = Array.from({ length: 10 }, (_, index) => ({
      eventId: newId(),
      tenantId,
      type: 'probe.changed',
      body: `#${index}`,
    }));
    await bus.ensureTopics([topic]);
    await bus.publish(
      topic,
      events.map((event) => ({ key: tenantId, value: encodeTestEvent(event) })),
    );
    const groupId = uniqueGroupId('consumer-crash');

    // Step 1: a consumer process applies four events and hangs in the fifth. Killing it then leaves
    // no chance to commit offsets or leave the group.
    const spawned = spawn(process.execPath, ['--import', 'tsx', childScript], {
      env: {
        ...process.env,
        HMS_TEST_APP_URL: database.appUrl,
        HMS_TEST_TOPIC: topic,
        HMS_TEST_GROUP_ID: groupId,
        HMS_TEST_BLOCK_AFTER: '4',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = spawned;
    let output = '';
    spawned.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await waitFor('the child to block in the fifth event', () => output.includes('blocked'), 60_000);
    const exited = new Promise((resolve) => spawned.once('exit', resolve));
    spawned.kill('SIGKILL');
    await exited;
    child = undefined;

    const effectsAfterCrash = await adminQuery<{ event_id: string }>(
      database,
      `select event_id from ${PROBE_SCHEMA}.probe_effects where tenant_id = $1`,
      [tenantId],
    );
    assert.equal(effectsAfterCrash.length, 4, 'the four applied effects committed before the crash');

    // Step 2: a restarted member of the same group gets the uncommitted messages again, once the
    // killed member's session (6 s) has timed out.
    restarted = await startConsumer<TestEvent>({
      bus,
      groupId,
      topics: [topic],
      orm: app,
      consumerName: 'probe-consumer',
      decode: decodeTestEvent,
      handle: (event, em) => recordEffect(em, event),
      logger,
      sessionTimeoutMs: 6_000,
    });
    const consumer = restarted;
    await waitFor(
      'all ten events processed again',
      () => consumer.counts.applied + consumer.counts.duplicates >= 10,
      60_000,
    );

    // Step 3: the four redelivered events were recognised, the other six applied, each once.
    assert.equal(consumer.counts.duplicates, 4);
    assert.equal(consumer.counts.applied, 6);
    const effects = await adminQuery<{ event_id: string; count: number }>(
      database,
      `select event_id, count(*)::int as count from ${PROBE_SCHEMA}.probe_effects where tenant_id = $1 group by event_id`,
      [tenantId],
    );
    assert.equal(effects.length, events.length);
    assert.ok(effects.every((effect) => effect.count === 1));
  });
});
