import type { Logger } from 'pino';
import { runWithContext } from '../context.js';
import { inTenantTransaction, type EntityManager, type MikroORM } from '../db/orm.js';
import { isUuid } from '../ids.js';
import { backoffDelay, delay, type BackoffOptions } from './backoff.js';
import type { EventBus, IncomingMessage, MessageControl, MessageHeaders } from './bus.js';
import { checkedSchema } from './outbox.js';
import { inConsumerSpan, traceIdOfHeaders } from './trace.js';

/** Headers a dead-lettered message carries besides its original ones. */
export const DLQ_REASON_HEADER = 'hms-dlq-reason';
export const DLQ_ERROR_HEADER = 'hms-dlq-error';
export const DLQ_CONSUMER_HEADER = 'hms-dlq-consumer';
export const DLQ_ATTEMPTS_HEADER = 'hms-dlq-attempts';
export const DLQ_SOURCE_HEADER = 'hms-dlq-source';

/** Reason a message went to the dead-letter topic. */
export type DeadLetterReason = 'malformed' | 'handler-failed';

/** Fields the consumer reads from a decoded event. The decoded envelope has these and more. */
export interface ConsumedEvent {
  /** UUID of the event, recorded in applied_events so the event takes effect once. */
  eventId: string;
  /** Tenant the event belongs to; the handler's transaction is scoped to it. */
  tenantId: string;
  type: string;
}

export interface ConsumerOptions<TEvent extends ConsumedEvent> {
  bus: EventBus;
  groupId: string;
  topics: string[];
  /** ORM of the service, connected as its app role. Its schema contains applied_events. */
  orm: MikroORM;
  /** Name under which applied event ids are recorded; one per logical consumer of the service. */
  consumerName: string;
  /**
   * Turns message bytes into an event, e.g. decodeEnvelope of @hms/proto-schemas. A throw, or an
   * event without a UUID event id and tenant id, sends the message to the dead-letter topic.
   */
  decode(bytes: Buffer, message: IncomingMessage): TEvent;
  /**
   * Applies the event. Runs inside the tenant transaction that records the event id, so the effect
   * and the record commit together; write through `em` only. A throw rolls both back and is retried.
   */
  handle(event: TEvent, em: EntityManager, message: IncomingMessage): Promise<void>;
  /** Attempts before a failing event goes to the dead-letter topic; defaults to 5. */
  maxAttempts?: number;
  /** Waits between attempts; defaults to 200 ms doubling up to 10 s. */
  backoff?: BackoffOptions;
  logger: Logger;
  /** Dead-letter topic of a topic; defaults to `<topic>.dlq`. */
  deadLetterTopic?: (topic: string) => string;
  /** Start position of a new consumer group; defaults to the beginning of each partition. */
  fromBeginning?: boolean;
  /** See SubscribeOptions.sessionTimeoutMs. */
  sessionTimeoutMs?: number;
}

/** Outcomes since the consumer started, for metrics and tests. */
export interface ConsumerCounts {
  /** Events whose handler ran and committed. */
  applied: number;
  /** Deliveries of events this consumer had already applied, skipped. */
  duplicates: number;
  /** Messages sent to the dead-letter topic. */
  deadLettered: number;
  /** Handler failures that were retried. */
  retries: number;
}

/** A running event consumer. */
export interface EventConsumer {
  readonly counts: Readonly<ConsumerCounts>;
  /** Lets the message in progress finish, commits the offsets of finished messages and leaves the group. */
  stop(): Promise<void>;
}

/** Returns the default dead-letter topic of `topic`. */
export function defaultDeadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

class StopRequested extends Error {
  constructor() {
    super('The consumer is stopping; the message is left uncommitted and will be delivered again.');
    this.name = 'StopRequested';
  }
}

/**
 * Starts an idempotent consumer. Each event is applied once per consumer name, in a transaction of
 * the event's tenant that also records its id. Its offset is committed only after that transaction
 * committed or after the message went to the dead-letter topic.
 *
 * A message that cannot be decoded is dead-lettered at once, and a handler that keeps failing is
 * dead-lettered after maxAttempts. An unreachable database is waited out instead, so an outage never
 * dead-letters healthy events.
 *
 * NOTE: an event without a tenant id (a platform-level envelope) is dead-lettered as malformed,
 * because applied_events is tenant-scoped. Consuming those needs a platform variant of the table and
 * inPlatformTransaction.
 */
export async function startConsumer<TEvent extends ConsumedEvent>(
  options: ConsumerOptions<TEvent>,
): Promise<EventConsumer> {
  const schema = checkedSchema(options.orm.config.get('schema') ?? '');
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const deadLetterTopic = options.deadLetterTopic ?? defaultDeadLetterTopic;
  const logger = options.logger.child({
    component: 'event-consumer',
    consumer: options.consumerName,
    groupId: options.groupId,
  });
  const counts: ConsumerCounts = { applied: 0, duplicates: 0, deadLettered: 0, retries: 0 };

  async function deadLetter(
    message: IncomingMessage,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const headers: MessageHeaders = {
      ...message.headers,
      [DLQ_REASON_HEADER]: reason,
      [DLQ_ERROR_HEADER]: describeError(error),
      [DLQ_CONSUMER_HEADER]: options.consumerName,
      [DLQ_ATTEMPTS_HEADER]: String(attempts),
      [DLQ_SOURCE_HEADER]: `${message.topic}/${message.partition}/${message.offset}`,
    };
    // Publishing may throw; the message then stays uncommitted and is processed again later.
    await options.bus.publish(deadLetterTopic(message.topic), [
      { key: message.key, value: message.value ?? Buffer.alloc(0), headers },
    ]);
    counts.deadLettered += 1;
  }

  /** Returns true when the handler ran, false when the event had been applied before. */
  function applyOnce(event: TEvent, message: IncomingMessage): Promise<boolean> {
    return inTenantTransaction(options.orm, event.tenantId, async (em) => {
      const inserted = await em.execute<{ event_id: string }[]>(
        `insert into ${schema}.applied_events (tenant_id, consumer, event_id) values (?, ?, ?)
         on conflict do nothing returning event_id`,
        [event.tenantId, options.consumerName, event.eventId],
      );
      if (inserted.length === 0) return false;
      await options.handle(event, em, message);
      return true;
    });
  }

  async function processMessage(message: IncomingMessage, control: MessageControl): Promise<void> {
    const where = { topic: message.topic, partition: message.partition, offset: message.offset };

    // Step 1: decode. A message that cannot be decoded never will be, so it is not retried.
    let event: TEvent;
    try {
      if (message.value === null) throw new Error('The message has no value (a tombstone).');
      event = options.decode(message.value, message);
      checkDecodedEvent(event);
    } catch (error) {
      await deadLetter(message, 'malformed', error, 1);
      logger.warn(
        { ...where, err: error },
        'Sent a message that cannot be decoded to the dead-letter topic.',
      );
      return;
    }

    // Step 2: apply in the event's tenant, with its trace and ids in the request context.
    const context = {
      requestId: event.eventId,
      tenantId: event.tenantId,
      traceId: traceIdOfHeaders(message.headers),
    };
    const ids = { ...where, eventId: event.eventId, eventType: event.type, tenantId: event.tenantId };
    let failedAttempts = 0;
    let unavailableInARow = 0;
    for (;;) {
      try {
        const applied = await runWithContext(context, () =>
          inConsumerSpan(message.headers, message.topic, () => applyOnce(event, message)),
        );
        if (applied) counts.applied += 1;
        else {
          counts.duplicates += 1;
          logger.debug(ids, 'Skipped an event this consumer had already applied.');
        }
        return;
      } catch (error) {
        if (control.signal.aborted) throw new StopRequested();

        // Step 3a: the database is down; wait without using up attempts.
        if (isDatabaseUnavailable(error)) {
          unavailableInARow += 1;
          const waitMs = backoffDelay(unavailableInARow, { initialMs: 500, maxMs: 10_000 });
          if (unavailableInARow === 1 || unavailableInARow % 10 === 0) {
            logger.warn(
              { ...ids, err: error, unavailableInARow, retryInMs: waitMs },
              'The database is unreachable; the event waits and is applied once it is back.',
            );
          }
          await waitWithHeartbeats(waitMs, control);
          continue;
        }

        // Step 3b: the handler failed; retry with back-off, then dead-letter.
        failedAttempts += 1;
        if (failedAttempts >= maxAttempts) {
          await deadLetter(message, 'handler-failed', error, failedAttempts);
          logger.error(
            { ...ids, err: error, attempts: failedAttempts },
            'An event failed every attempt and went to the dead-letter topic; replay it from there once fixed.',
          );
          return;
        }
        counts.retries += 1;
        const waitMs = backoffDelay(failedAttempts, options.backoff);
        logger.warn(
          { ...ids, err: error, attempt: failedAttempts, maxAttempts, retryInMs: waitMs },
          'Applying an event failed; retrying after the back-off.',
        );
        await waitWithHeartbeats(waitMs, control);
      }
      if (control.signal.aborted) throw new StopRequested();
    }
  }

  const subscription = await options.bus.subscribe({
    groupId: options.groupId,
    topics: options.topics,
    fromBeginning: options.fromBeginning ?? true,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
    eachMessage: processMessage,
  });
  logger.info({ topics: options.topics }, 'Started the event consumer.');

  return {
    counts,
    async stop() {
      await subscription.stop();
      logger.info({ counts }, 'Stopped the event consumer.');
    },
  };
}

function checkDecodedEvent(event: ConsumedEvent | null | undefined): void {
  if (!event || typeof event !== 'object') throw new Error('decode() returned no event.');
  if (typeof event.eventId !== 'string' || !isUuid(event.eventId)) {
    throw new Error('The decoded event has no UUID event id.');
  }
  if (typeof event.tenantId !== 'string' || !isUuid(event.tenantId)) {
    throw new Error('The decoded event has no UUID tenant id.');
  }
  if (typeof event.type !== 'string' || event.type === '') throw new Error('The decoded event has no type.');
}

/** Waits in slices, sending heartbeats, so a long back-off does not cost the consumer its partitions. */
async function waitWithHeartbeats(ms: number, control: MessageControl): Promise<void> {
  const sliceMs = 3_000;
  for (let waited = 0; waited < ms && !control.signal.aborted; waited += sliceMs) {
    await delay(Math.min(sliceMs, ms - waited), control.signal);
    await control.heartbeat();
  }
}

// PostgreSQL SQLSTATE classes and Node socket errors that mean "the database is not reachable now",
// as opposed to a handler or data problem that a retry with the same input would repeat.
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    const code = typeof candidate.code === 'string' ? candidate.code : '';
    if (code.startsWith('08') || UNAVAILABLE_CODES.has(code)) return true;
    if (
      typeof candidate.message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect/.test(candidate.message)
    ) {
      return true;
    }
    current = candidate.cause;
  }
  return false;
}

/** Error text for the dead-letter header: enough to triage, short enough for a header. */
function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 1_000 ? `${text.slice(0, 1_000)}…` : text;
}
