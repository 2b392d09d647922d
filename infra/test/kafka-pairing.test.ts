// Checks that the Kafka broker started by infra/kafka/start works with the
// project's client, kafkajs: idempotent produce, consumer-group consume with
// committed offsets, and topic auto-creation. Kafka 4 removed old protocol
// versions (KIP-896), so a broker upgrade can break kafkajs without any change
// on our side, and this test is where that shows up.
//
// Expects a running broker at HMS_KAFKA_BROKERS (comma-separated host:port,
// default 127.0.0.1:9092). Run from the repository root:
//   node --import tsx --test infra/test/*.test.ts
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage, type Producer } from 'kafkajs';

const brokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim());
const testTimeoutMs = 60_000;

// kafkajs logs retriable broker errors (such as the group coordinator still
// loading on a fresh broker) at ERROR level, which reads like a failure in the
// test output, so it stays silent unless HMS_KAFKAJS_LOG_LEVEL is set.
const logLevels: Record<string, logLevel> = {
  debug: logLevel.DEBUG,
  info: logLevel.INFO,
  warn: logLevel.WARN,
  error: logLevel.ERROR,
};
const kafka = new Kafka({
  clientId: 'hms-infra-kafka-pairing',
  brokers,
  logLevel: logLevels[process.env.HMS_KAFKAJS_LOG_LEVEL ?? ''] ?? logLevel.NOTHING,
});

interface ReceivedMessage {
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

function canConnect(broker: string): Promise<boolean> {
  const separator = broker.lastIndexOf(':');
  const host = broker.slice(0, separator);
  const port = Number(broker.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function decode(message: KafkaMessage): Omit<ReceivedMessage, 'partition'> {
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(message.headers ?? {})) {
    headers[name] = String(header);
  }
  return {
    offset: message.offset,
    key: message.key?.toString('utf8') ?? '',
    value: message.value?.toString('utf8') ?? '',
    headers,
  };
}

function newIdempotentProducer(): Producer {
  // kafkajs keeps per-partition ordering for an idempotent producer only with
  // one request in flight per broker connection.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * Subscribes a new consumer group to the topic from its beginning and resolves
 * with the first `expectedCount` messages, in the order the consumer saw them.
 */
async function consumeMessages(
  consumer: Consumer,
  topic: string,
  expectedCount: number,
): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  let resolveDone: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.push({ partition, ...decode(message) });
      if (received.length >= expectedCount) {
        resolveDone();
      }
    },
  });

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `timed out after ${testTimeoutMs / 2} ms with ${received.length} of ${expectedCount} messages from ${topic}`,
          ),
        ),
      testTimeoutMs / 2,
    );
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return received;
}

const admin = kafka.admin();
const createdTopics: string[] = [];

before(async () => {
  const reachable = await Promise.all(brokers.map(canConnect));
  if (!reachable.some(Boolean)) {
    throw new Error(
      `no Kafka broker accepts connections at ${brokers.join(', ')}; start one with infra/kafka/start ` +
        'or point HMS_KAFKA_BROKERS at a running broker',
    );
  }
  await admin.connect();
});

after(async () => {
  if (createdTopics.length > 0) {
    await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
  }
  await admin.disconnect();
});

test('idempotent producer pairs with consumer group', { timeout: testTimeoutMs }, async () => {
  const topic = `hms.infra-test.pairing.${randomUUID()}`;
  const groupId = `hms-infra-test-${randomUUID()}`;
  const keys = ['patient-1', 'patient-2', 'patient-3'];
  const messagesPerKey = 20;
  createdTopics.push(topic);
  assert.equal(
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }),
    true,
  );

  // Several sends of interleaved keys, so each partition receives more than
  // one batch and order has to hold across batches.
  const producer = newIdempotentProducer();
  const consumer = kafka.consumer({ groupId });
  try {
    await producer.connect();
    for (let batch = 0; batch < 4; batch += 1) {
      const messages = [];
      for (let index = batch * 5; index < (batch + 1) * 5; index += 1) {
        for (const key of keys) {
          messages.push({
            key,
            value: JSON.stringify({ key, sequence: index }),
            headers: { 'hms-test-sequence': String(index) },
          });
        }
      }
      const metadata = await producer.send({ topic, messages });
      for (const record of metadata) {
        assert.equal(record.errorCode, 0, `produce to partition ${record.partition} failed`);
      }
    }

    const received = await consumeMessages(consumer, topic, keys.length * messagesPerKey);
    assert.equal(received.length, keys.length * messagesPerKey);

    for (const key of keys) {
      const forKey = received.filter((message) => message.key === key);
      assert.equal(forKey.length, messagesPerKey, `message count for ${key}`);
      assert.equal(new Set(forKey.map((message) => message.partition)).size, 1, `${key} spans partitions`);
      assert.deepEqual(
        forKey.map((message) => JSON.parse(message.value)),
        Array.from({ length: messagesPerKey }, (_, sequence) => ({ key, sequence })),
        `payloads for ${key} out of order or changed`,
      );
      assert.deepEqual(
        forKey.map((message) => message.headers['hms-test-sequence']),
        Array.from({ length: messagesPerKey }, (_, sequence) => String(sequence)),
        `headers for ${key}`,
      );
      const offsets = forKey.map((message) => BigInt(message.offset));
      for (let index = 1; index < offsets.length; index += 1) {
        assert.ok(
          offsets[index] > offsets[index - 1],
          `offsets for ${key} not increasing: ${offsets.join(',')}`,
        );
      }
    }

    // The group must have committed up to each partition's end, or a restarted
    // consumer would read the messages again. Auto-commit runs after each
    // batch, so poll briefly for the last commit. A partition that no key
    // hashed to has no commit, which the broker reports as offset -1.
    const endOffsets = new Map(
      (await admin.fetchTopicOffsets(topic)).map((partition) => [
        partition.partition,
        partition.offset === '0' ? '-1' : partition.offset,
      ]),
    );
    const deadline = Date.now() + 10_000;
    let committed = new Map<number, string>();
    while (Date.now() < deadline) {
      const [groupOffsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      committed = new Map(
        groupOffsets.partitions.map((partition) => [partition.partition, partition.offset]),
      );
      if ([...endOffsets].every(([partition, offset]) => committed.get(partition) === offset)) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(Object.fromEntries(committed), Object.fromEntries(endOffsets));
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
});

test('produce auto-creates a missing topic', { timeout: testTimeoutMs }, async () => {
  const topic = `hms.infra-test.auto-created.${randomUUID()}`;
  createdTopics.push(topic);
  const producer = newIdempotentProducer();
  const consumer = kafka.consumer({ groupId: `hms-infra-test-${randomUUID()}` });
  try {
    await producer.connect();
    const values = ['admitted', 'transferred', 'discharged'];
    for (const value of values) {
      await producer.send({ topic, messages: [{ key: 'encounter-1', value }] });
    }

    const received = await consumeMessages(consumer, topic, values.length);
    assert.deepEqual(
      received.map((message) => message.value),
      values,
    );
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
});
