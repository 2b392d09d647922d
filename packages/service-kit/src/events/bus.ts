// The only module of HMS that imports the Kafka client. Services, the outbox relay and the consumer
// helper reach Kafka through the EventBus interface below, so replacing kafkajs (in maintenance mode;
// @platformatic/kafka is the likeliest successor) means rewriting this file alone.
import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay, delay } from './backoff.js';
import { withTraceHeaders, type MessageHeaders } from './trace.js';

export type { MessageHeaders };

/** A message to publish. The value is opaque bytes, normally an encoded EventEnvelope. */
export interface OutgoingMessage {
  /** Messages with the same key go to the same partition, in publish order. Starts with the tenant id. */
  key: string | Buffer | null;
  value: Buffer;
  headers?: MessageHeaders;
}

/** A message as a subscriber receives it. */
export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  headers: MessageHeaders;
  /** Broker or producer time, milliseconds since the epoch, as a string. */
  timestamp: string;
}

/** Controls a subscriber gets with each message, for work that may take long. */
export interface MessageControl {
  /** Aborts when the subscription stops; a subscriber waiting to retry should give up and throw. */
  signal: AbortSignal;
  /**
   * Tells the group coordinator this consumer is alive. Call it during waits of more than a few
   * seconds, or the group considers the consumer dead and gives its partitions to another member.
   */
  heartbeat(): Promise<void>;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /**
   * Start position of a group without committed offsets. Defaults to the beginning of each partition,
   * because a consumer that starts at the end misses the events published before its first start.
   */
  fromBeginning?: boolean;
  /**
   * How long the group waits for a silent member before giving its partitions to others; defaults to
   * 30 s. Shorter means a crashed process's partitions move sooner, but long pauses (a slow handler
   * that sends no heartbeat) then cost the member its partitions. Brokers accept 6 s to 5 min.
   */
  sessionTimeoutMs?: number;
  /**
   * Processes one message. Messages of a partition arrive one at a time, in order. When the promise
   * resolves, the message is done and its offset is committed soon after (at the latest when the
   * batch ends or the subscription stops). When it rejects, the offset stays where it was and the
   * message is delivered again after a back-off, so it is never skipped.
   */
  eachMessage(message: IncomingMessage, control: MessageControl): Promise<void>;
}

/** A running consumer group member. */
export interface Subscription {
  readonly groupId: string;
  /**
   * Stops fetching, lets the message in progress finish (its control signal aborts), commits the
   * offsets of finished messages and leaves the group.
   */
  stop(): Promise<void>;
}

/** Publish and subscribe to Kafka without naming the client library. */
export interface EventBus {
  /**
   * Publishes `messages` to `topic` with the idempotent producer and resolves once every in-sync
   * replica has them. The current trace context is added to messages that carry no `traceparent`.
   * Rejects when Kafka stays unreachable past the client's retries; nothing is then known to be
   * published, so the caller publishes the same messages again.
   */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Creates the topics that do not exist yet. Needed where brokers do not create topics on first use
   * (the usual production setting); a no-op for topics that exist.
   */
  ensureTopics(
    topics: string[],
    options?: { partitions?: number; replicationFactor?: number },
  ): Promise<void>;
  /** Deletes topics; meant for tests and tooling that create short-lived topics. */
  deleteTopics(topics: string[]): Promise<void>;
  /** Stops every subscription and disconnects the producer and the admin client. */
  disconnect(): Promise<void>;
}

export interface EventBusOptions {
  /** host:port of one or more brokers. */
  brokers: string[];
  /** Names this process in broker logs and quotas, e.g. the service name. */
  clientId: string;
  logger: Logger;
  /**
   * Retries of one request inside the client before publish() rejects. Defaults to 5 retries with
   * waits up to 5 s, so a publish fails within about 15 s while Kafka is down.
   */
  retry?: { retries?: number; initialRetryTimeMs?: number; maxRetryTimeMs?: number };
  /** Milliseconds to wait for a TCP connection to a broker; the client default is 1 s. */
  connectionTimeoutMs?: number;
  /** Minimum kafkajs log level passed on to the logger; defaults to warn. */
  clientLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'nothing';
}

const CLIENT_LOG_LEVELS = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
} as const;

/** Creates the event bus of a process. Nothing connects until the first publish or subscribe. */
export function createEventBus(options: EventBusOptions): EventBus {
  if (options.brokers.length === 0) {
    throw new Error(
      'createEventBus needs at least one broker address (host:port), e.g. from HMS_KAFKA_BROKERS.',
    );
  }
  const logger = options.logger.child({ component: 'event-bus' });
  const retry = {
    retries: options.retry?.retries ?? 5,
    initialRetryTime: options.retry?.initialRetryTimeMs ?? 300,
    maxRetryTime: options.retry?.maxRetryTimeMs ?? 5_000,
  };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 1_000,
    // Connecting and metadata requests use the client's retry; sends use the producer's, set below.
    retry,
    logLevel: CLIENT_LOG_LEVELS[options.clientLogLevel ?? 'warn'],
    logCreator: () => (entry) => logClientEntry(logger, entry),
  });

  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  let admin: Admin | undefined;
  let adminReady: Promise<Admin> | undefined;
  const subscriptions = new Set<Subscription>();

  function connectedProducer(): Promise<Producer> {
    producerReady ??= (async () => {
      // kafkajs keeps per-partition order for an idempotent producer only with one request in
      // flight; the idempotent producer always waits for all in-sync replicas (acks=all).
      const created = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry,
      });
      producer = created;
      await created.connect();
      logger.info('Connected the Kafka producer.');
      return created;
    })();
    return producerReady;
  }

  // A failed send leaves the producer's sequence numbers uncertain: the broker may have written a
  // batch whose response was lost. Publishing different messages under the same sequence numbers
  // would make the broker drop them as duplicates or reject them as out of order, so the next
  // publish starts a new producer (a new producer id). Repeating the failed messages may then
  // duplicate some of them on the topic, which consumers absorb because they are idempotent.
  async function discardProducer(): Promise<void> {
    const discarded = producer;
    producer = undefined;
    producerReady = undefined;
    await discarded?.disconnect().catch(() => undefined);
  }

  function connectedAdmin(): Promise<Admin> {
    adminReady ??= (async () => {
      const created = kafka.admin({ retry });
      admin = created;
      await created.connect();
      return created;
    })().catch((error: unknown) => {
      adminReady = undefined;
      throw error;
    });
    return adminReady;
  }

  async function ensureTopics(
    topics: string[],
    topicOptions: { partitions?: number; replicationFactor?: number } = {},
  ): Promise<void> {
    const connected = await connectedAdmin();
    const existing = new Set(await connected.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await connected.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: topicOptions.partitions ?? -1,
        replicationFactor: topicOptions.replicationFactor ?? -1,
      })),
    });
    logger.info({ topics: missing }, 'Created Kafka topics.');
  }

  return {
    async publish(topic, messages) {
      if (messages.length === 0) return;
      try {
        const connected = await connectedProducer();
        await connected.send({
          topic,
          acks: -1,
          messages: messages.map((message) => ({
            key: message.key,
            value: message.value,
            headers: withTraceHeaders(message.headers),
          })),
        });
      } catch (error) {
        await discardProducer();
        throw error;
      }
    },

    async subscribe(subscribeOptions) {
      // A consumer often starts before anything was published to its topics, and the client rejects
      // a subscription to a topic the broker does not know yet.
      await ensureTopics(subscribeOptions.topics);
      const subscription = await startSubscription(kafka, subscribeOptions, retry, logger);
      const tracked: Subscription = {
        groupId: subscription.groupId,
        async stop() {
          subscriptions.delete(tracked);
          await subscription.stop();
        },
      };
      subscriptions.add(tracked);
      return tracked;
    },

    ensureTopics,

    async deleteTopics(topics) {
      if (topics.length === 0) return;
      const connected = await connectedAdmin();
      const existing = new Set(await connected.listTopics());
      const present = topics.filter((topic) => existing.has(topic));
      if (present.length > 0) await connected.deleteTopics({ topics: present });
    },

    async disconnect() {
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      await discardProducer();
      const connectedAdminClient = admin;
      admin = undefined;
      adminReady = undefined;
      await connectedAdminClient?.disconnect().catch(() => undefined);
      logger.info('Disconnected the event bus from Kafka.');
    },
  };
}

async function startSubscription(
  kafka: Kafka,
  options: SubscribeOptions,
  retry: { retries: number; initialRetryTime: number; maxRetryTime: number },
  busLogger: Logger,
): Promise<Subscription> {
  const { groupId, topics } = options;
  const logger = busLogger.child({ groupId });
  const consumer: Consumer = kafka.consumer({
    groupId,
    retry,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    // An idle fetch waits this long for data; it bounds how long stop() waits for a fetch in flight.
    maxWaitTimeInMs: 1_000,
  });
  const stopping = new AbortController();
  let failuresInARow = 0;

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    logger.info(
      { memberId: event.payload.memberId, assignment: event.payload.memberAssignment },
      'Joined the consumer group.',
    );
  });
  consumer.on(consumer.events.CRASH, (event) => {
    logger.error(
      { err: event.payload.error, restart: event.payload.restart },
      event.payload.restart
        ? 'The Kafka consumer crashed and restarts; messages not yet committed are delivered again.'
        : 'The Kafka consumer crashed and stays stopped; restart the process to consume again.',
    );
  });

  const control = (heartbeat: () => Promise<void>): MessageControl => ({
    signal: stopping.signal,
    // A heartbeat fails while the group rebalances. The subscriber cannot act on that; the heartbeat
    // that follows the message rethrows it, and the client then rejoins the group.
    heartbeat: () => heartbeat().catch(() => undefined),
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      // Offsets are resolved here, one message at a time, only after eachMessage succeeded.
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: 5_000,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || stopping.signal.aborted) return;
          const incoming = toIncomingMessage(batch.topic, batch.partition, message);
          try {
            await options.eachMessage(incoming, control(heartbeat));
          } catch (error) {
            if (stopping.signal.aborted) return;
            // Returning without resolving makes the client fetch this message again.
            failuresInARow += 1;
            const waitMs = backoffDelay(failuresInARow, { initialMs: 500, maxMs: 10_000 });
            logger.warn(
              {
                err: error,
                topic: incoming.topic,
                partition: incoming.partition,
                offset: incoming.offset,
                failuresInARow,
                retryInMs: waitMs,
              },
              'Processing a message failed; it is delivered again after the back-off and its offset is not committed.',
            );
            await delay(waitMs, stopping.signal);
            return;
          }
          failuresInARow = 0;
          resolveOffset(message.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    throw error;
  }
  logger.info({ topics }, 'Started consuming.');

  return {
    groupId,
    async stop() {
      if (stopping.signal.aborted) return;
      stopping.abort();
      // disconnect() waits for the batch in progress and commits the resolved offsets.
      await consumer.disconnect();
      logger.info({ topics }, 'Stopped consuming.');
    },
  };
}

function toIncomingMessage(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: toMessageHeaders(message.headers),
    timestamp: message.timestamp,
  };
}

function toMessageHeaders(headers: IHeaders | undefined): MessageHeaders {
  const result: MessageHeaders = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    // Kafka allows a header name more than once; HMS writes each once, so the first value counts.
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) result[name] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  }
  return result;
}

function logClientEntry(logger: Logger, entry: LogEntry): void {
  const { message, timestamp: _timestamp, stack: _stack, ...fields } = entry.log;
  const details = { kafkajs: entry.namespace, ...fields };
  switch (entry.level) {
    case KafkaLogLevel.ERROR:
    case KafkaLogLevel.WARN:
      // kafkajs logs at ERROR what its own retries usually recover from (a broker restarting, a group
      // coordinator still loading). The bus, relay and consumer log the failures that have a
      // consequence, so the client's own lines are warnings.
      if (isExpectedClientWarning(message)) return;
      logger.warn(details, `Kafka client: ${message}`);
      return;
    case KafkaLogLevel.INFO:
      logger.info(details, `Kafka client: ${message}`);
      return;
    default:
      logger.debug(details, `Kafka client: ${message}`);
  }
}

/**
 * kafkajs warns on every idempotent producer with bounded retries. The bus bounds them on purpose and
 * replaces the producer after a failed send (see discardProducer), which is what keeps the
 * guarantee the warning is about, so the line would only mislead.
 */
function isExpectedClientWarning(message: string): boolean {
  return message.startsWith('Limiting retries for the idempotent producer');
}
