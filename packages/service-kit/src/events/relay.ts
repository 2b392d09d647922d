import pg from 'pg';
import type { Logger } from 'pino';
import { backoffDelay, delay } from './backoff.js';
import type { EventBus, OutgoingMessage } from './bus.js';
import { checkedSchema } from './outbox.js';
import { TRACEPARENT_HEADER, withMessageTrace, type MessageHeaders } from './trace.js';

export interface OutboxRelayOptions {
  /** Connection URL of the service's relay role (provisionRelayRole), which reads every tenant's outbox. */
  databaseUrl: string;
  /** The service schema that contains the outbox table. */
  schema: string;
  bus: EventBus;
  logger: Logger;
  /** Rows read, published and marked in one transaction. */
  batchSize?: number;
  /** Wait between polls while the outbox is empty, or while another relay is the active one. */
  pollIntervalMs?: number;
  /** Published rows are deleted once they are older than this. */
  pruneAfterMs?: number;
  /** Upper bound of the back-off after failures (Kafka or PostgreSQL unreachable). */
  maxBackoffMs?: number;
}

/** A running outbox relay. */
export interface OutboxRelay {
  /** Lets the batch in progress finish (published and marked, or left unsent), then closes the pool. */
  stop(): Promise<void>;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  headers: MessageHeaders;
  payload: Buffer;
}

interface BatchResult {
  /** False when another relay holds the schema's relay lock. */
  active: boolean;
  published: number;
  /** The publish failure that ended the batch early; the rows from there on stay unsent. */
  failure?: unknown;
}

// Class id of the advisory locks that elect one active relay per schema ("HMS" in ASCII).
const RELAY_LOCK_CLASS = 0x484d53;
// Sent rows deleted per statement, so pruning a large backlog never holds long locks.
const PRUNE_CHUNK = 5_000;
// Repeated failures are logged as warnings at most this often, and each one at debug level. The
// failuresInARow field of a line is the count so far.
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Starts publishing the outbox of `schema`: reads unsent rows in id order, publishes them with the
 * bus's idempotent producer and marks them sent, in one transaction per batch. When Kafka is down the
 * rows stay unsent and the relay retries with back-off, so nothing written while Kafka was away is
 * lost. Sent rows are pruned after `pruneAfterMs`.
 *
 * Several relays may run for one schema (one per replica of the service). Only one publishes at a
 * time: each batch first takes a transaction-level advisory lock, and the others wait as standbys
 * that take over as soon as the active one's transaction or connection ends. Two relays publishing
 * concurrently would each hold part of the backlog, and the later rows of a key could overtake the
 * earlier ones.
 *
 * Delivery is at least once: a batch published but not marked (PostgreSQL failing between the two)
 * is published again. Consumers record applied event ids for that reason.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const schema = checkedSchema(options.schema);
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const pruneAfterMs = options.pruneAfterMs ?? 60 * 60 * 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  // Pruning more often than every minute gains nothing for a one-hour retention, but short retentions
  // (tests) still need to see rows go.
  const pruneEveryMs = Math.max(pollIntervalMs, Math.min(pruneAfterMs, 60_000));
  const logger = options.logger.child({ component: 'outbox-relay', schema });

  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 1,
    application_name: `hms-outbox-relay-${schema}`,
  });
  // An idle connection that the server closes emits here; the next query opens a new one.
  pool.on('error', (error) =>
    logger.warn({ err: error }, 'An idle outbox relay connection failed; the relay reconnects.'),
  );

  const stopping = new AbortController();

  async function relayBatch(): Promise<BatchResult> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      const lock = await client.query<{ locked: boolean }>(
        'select pg_try_advisory_xact_lock($1, hashtext($2)) as locked',
        [RELAY_LOCK_CLASS, schema],
      );
      if (!lock.rows[0]?.locked) {
        await client.query('commit');
        return { active: false, published: 0 };
      }

      // SKIP LOCKED keeps a relay from waiting on rows that another transaction locked. No other relay
      // locks any while this one has the advisory lock, so in practice this reads the oldest unsent rows.
      const { rows } = await client.query<OutboxRow>(
        `select id, topic, message_key, headers, payload from ${schema}.outbox
         where sent_at is null order by id limit $1 for update skip locked`,
        [batchSize],
      );

      // Publish in id order, one group at a time: with one request in flight, each key's events
      // reach their partition in the order they were written.
      const publishedIds: string[] = [];
      let failure: unknown;
      for (const group of groupForPublishing(rows)) {
        try {
          await withMessageTrace(group.headers, () => options.bus.publish(group.topic, group.messages));
        } catch (error) {
          failure = error;
          break;
        }
        publishedIds.push(...group.ids);
      }

      // Mark what Kafka accepted, even when a later group failed, so it is not published again.
      if (publishedIds.length > 0) {
        await client.query(`update ${schema}.outbox set sent_at = now() where id = any($1::bigint[])`, [
          publishedIds,
        ]);
      }
      await client.query('commit');
      return { active: true, published: publishedIds.length, failure };
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      // A connection whose query failed may be unusable; release(error) closes it instead of pooling it.
      client.release(broken);
    }
  }

  async function prune(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const result = await pool.query(
        `delete from ${schema}.outbox where id in (
           select id from ${schema}.outbox
           where sent_at is not null and sent_at < now() - make_interval(secs => $1::float8 / 1000)
           limit $2)`,
        [pruneAfterMs, PRUNE_CHUNK],
      );
      deleted += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < PRUNE_CHUNK || stopping.signal.aborted) return deleted;
    }
  }

  async function run(): Promise<void> {
    let failuresInARow = 0;
    let lastFailureLogAt = 0;
    let lastPruneAt = 0;
    let wasActive: boolean | undefined;

    const recordFailure = (error: unknown, what: string): number => {
      failuresInARow += 1;
      const waitMs = backoffDelay(failuresInARow, { initialMs: pollIntervalMs, maxMs: maxBackoffMs });
      const now = Date.now();
      const fields = { err: error, failuresInARow, retryInMs: waitMs };
      const message = `${what} failed; the events stay in the outbox and the relay retries with back-off.`;
      if (failuresInARow === 1 || now - lastFailureLogAt >= FAILURE_LOG_INTERVAL_MS) {
        lastFailureLogAt = now;
        logger.warn(fields, message);
      } else {
        logger.debug(fields, message);
      }
      return waitMs;
    };

    while (!stopping.signal.aborted) {
      let waitMs = 0;
      try {
        const result = await relayBatch();
        if (result.active !== wasActive) {
          logger.info(
            result.active
              ? 'This relay is now the active publisher of the outbox.'
              : 'Another relay publishes the outbox; this one waits as a standby.',
          );
          wasActive = result.active;
        }
        if (result.failure !== undefined) {
          waitMs = recordFailure(result.failure, 'Publishing outbox events to Kafka');
        } else {
          if (failuresInARow > 0) {
            logger.info({ failuresInARow }, 'The outbox relay publishes again after failures.');
            failuresInARow = 0;
          }
          if (result.published > 0) logger.debug({ published: result.published }, 'Published outbox events.');
          // A full batch means more rows are probably waiting, so the next one starts at once.
          if (result.published < batchSize) waitMs = pollIntervalMs;
        }
      } catch (error) {
        waitMs = recordFailure(error, 'Reading or marking the outbox in PostgreSQL');
      }

      if (Date.now() - lastPruneAt >= pruneEveryMs && !stopping.signal.aborted) {
        lastPruneAt = Date.now();
        try {
          const deleted = await prune();
          if (deleted > 0) logger.debug({ deleted }, 'Pruned published outbox rows.');
        } catch (error) {
          logger.warn({ err: error }, 'Pruning published outbox rows failed; the next prune retries.');
        }
      }

      if (waitMs > 0) await delay(waitMs, stopping.signal);
    }
  }

  logger.info({ batchSize, pollIntervalMs, pruneAfterMs }, 'Started the outbox relay.');
  const running = run().catch((error: unknown) => {
    // run() handles its own errors; reaching this is a bug, and the relay would silently stop.
    logger.error({ err: error }, 'The outbox relay stopped on an unexpected error; restart the process.');
  });

  return {
    async stop() {
      if (!stopping.signal.aborted) stopping.abort();
      await running;
      await pool.end().catch(() => undefined);
      logger.info('Stopped the outbox relay.');
    },
  };
}

interface PublishGroup {
  topic: string;
  headers: MessageHeaders;
  ids: string[];
  messages: OutgoingMessage[];
}

/**
 * Splits rows, kept in id order, into runs that share a topic and a trace parent. Each run is one
 * publish made inside its trace context, so a Kafka client instrumentation that adds its own producer
 * span makes it a child of the request that wrote the rows, not of the relay loop.
 */
function groupForPublishing(rows: OutboxRow[]): PublishGroup[] {
  const groups: PublishGroup[] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    const message: OutgoingMessage = { key: row.message_key, value: row.payload, headers: row.headers };
    if (
      last &&
      last.topic === row.topic &&
      last.headers[TRACEPARENT_HEADER] === row.headers[TRACEPARENT_HEADER]
    ) {
      last.ids.push(row.id);
      last.messages.push(message);
    } else {
      groups.push({ topic: row.topic, headers: row.headers, ids: [row.id], messages: [message] });
    }
  }
  return groups;
}
