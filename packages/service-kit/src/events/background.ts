import type { Logger } from 'pino';
import { backoffDelay, delay } from './backoff.js';
import type { EventConsumer } from './consumer.js';

/** A consumer of a running service, started in the background. */
export interface BackgroundConsumer {
  /** The consumer, once started. */
  readonly consumer: EventConsumer | undefined;
  /** Resolves with the consumer once it started, or with undefined when stopped first. */
  readonly started: Promise<EventConsumer | undefined>;
  stop(): Promise<void>;
}

/**
 * Starts a consumer in the background, retrying until Kafka is reachable, so the service serves its
 * graph while Kafka is down. Events published meanwhile wait in Kafka. `description` names what waits,
 * such as "tenant settings changes", in the retry log line.
 */
export function startConsumerInBackground(
  start: () => Promise<EventConsumer>,
  options: { logger: Logger; name: string; description: string },
): BackgroundConsumer {
  const stopping = new AbortController();
  let consumer: EventConsumer | undefined;

  const started = (async () => {
    for (let failures = 1; !stopping.signal.aborted; failures++) {
      try {
        consumer = await start();
        return consumer;
      } catch (error) {
        const retryInMs = backoffDelay(failures, { initialMs: 1_000, maxMs: 30_000 });
        if (failures === 1 || failures % 10 === 0) {
          options.logger.warn(
            { err: error, consumer: options.name, failures, retryInMs },
            `The ${options.name} consumer could not start; ${options.description} wait in Kafka until it does. Retrying.`,
          );
        }
        await delay(retryInMs, stopping.signal);
      }
    }
    return undefined;
  })();

  return {
    get consumer() {
      return consumer;
    },
    started,
    async stop() {
      stopping.abort();
      await started;
      await consumer?.stop();
    },
  };
}
