// Child process of consumer-crash.test.ts: consumes a topic, applies events until the one after
// HMS_TEST_BLOCK_AFTER applied events, then hangs inside that event's handler so the parent can kill
// the process after the earlier effects committed and before any offset commit.
import pino from 'pino';
import { createOrm } from '../../db/orm.js';
import { createEventBus } from '../bus.js';
import { startConsumer } from '../consumer.js';
import { decodeTestEvent, kafkaBrokers, PROBE_SCHEMA, ProbeChange, recordEffect } from './support.js';

const { HMS_TEST_APP_URL, HMS_TEST_TOPIC, HMS_TEST_GROUP_ID, HMS_TEST_BLOCK_AFTER } = process.env;
if (!HMS_TEST_APP_URL || !HMS_TEST_TOPIC || !HMS_TEST_GROUP_ID || !HMS_TEST_BLOCK_AFTER) {
  throw new Error('Set HMS_TEST_APP_URL, HMS_TEST_TOPIC, HMS_TEST_GROUP_ID and HMS_TEST_BLOCK_AFTER.');
}
const blockAfter = Number(HMS_TEST_BLOCK_AFTER);

const logger = pino({ level: 'warn' }, pino.destination(2));
const orm = await createOrm({ clientUrl: HMS_TEST_APP_URL, schema: PROBE_SCHEMA, entities: [ProbeChange] });
const bus = createEventBus({ brokers: kafkaBrokers, clientId: 'kit-events-crash-child', logger });
let handled = 0;
await startConsumer({
  bus,
  groupId: HMS_TEST_GROUP_ID,
  topics: [HMS_TEST_TOPIC],
  orm,
  consumerName: 'probe-consumer',
  decode: decodeTestEvent,
  logger,
  // The broker's minimum, so the killed member's partition moves to the restarted one quickly.
  sessionTimeoutMs: 6_000,
  handle: async (event, em) => {
    if (handled === blockAfter) {
      process.stdout.write('blocked\n');
      await new Promise(() => undefined);
    }
    await recordEffect(em, event);
    handled += 1;
  },
});
