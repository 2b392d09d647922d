import { AUDIT_TOPIC, dlqTopic } from '@hms/proto-schemas';
import {
  startConsumer,
  type EventBus,
  type EventConsumer,
  type Logger,
  type MikroORM,
} from '@hms/service-kit';
import { backoffDelay, delay } from '@hms/service-kit/events/backoff';
import { appendInTransaction } from '../records/append.js';
import { decodeAuditRecordMessage } from './decode.js';

/** Consumer group of the audit service on hms.audit.v1. */
export const AUDIT_CONSUMER_GROUP = 'hms-audit';
/** Name under which the consumer records the event ids it has applied. */
export const AUDIT_CONSUMER_NAME = 'audit-records';

export interface AuditConsumerOptions {
  bus: EventBus;
  orm: MikroORM;
  logger: Logger;
  /** Tests and benchmarks use their own topic and group, so they never take records meant for others. */
  topic?: string;
  groupId?: string;
  /**
   * Starting position of a group without committed offsets. The default is the oldest record, so
   * nothing is missed. Test runs that share a topic's history start at records published after joining.
   */
  fromBeginning?: boolean;
}

/**
 * Consumes hms.audit.v1 and appends each record to its tenant's chain. Producers key messages by
 * tenant id, so a tenant's records arrive in one partition, in order, and the chain follows that
 * order. Each record is appended in the transaction that also marks its event applied. The kit skips
 * a redelivered event, and the store skips a record delivered again under another event id. Messages
 * that cannot be decoded or validated go to hms.audit.v1.dlq.
 */
// NOTE: the kit's consumer applies one message per transaction, which bench-ingest.ts measured at
// about 550 records/s on a 2-core development machine, against about 15,000 for batches of 100 to
// 1000 records. Appending a poll's records of one tenant in one transaction needs a batch handler
// in the kit's consumer; appendInTransaction already takes batches.
export async function startAuditConsumer(options: AuditConsumerOptions): Promise<EventConsumer> {
  const topic = options.topic ?? AUDIT_TOPIC;
  // Production brokers usually do not create topics on first use; this is a no-op where they exist.
  await options.bus.ensureTopics([topic, dlqTopic(topic)]);

  return startConsumer({
    bus: options.bus,
    groupId: options.groupId ?? AUDIT_CONSUMER_GROUP,
    topics: [topic],
    orm: options.orm,
    consumerName: AUDIT_CONSUMER_NAME,
    fromBeginning: options.fromBeginning ?? true,
    decode: (bytes) => decodeAuditRecordMessage(bytes),
    handle: async (event, em) => {
      const result = await appendInTransaction(em, event.tenantId, [event.record]);
      if (result.skipped.length > 0) {
        options.logger.info(
          { recordId: event.record.recordId, eventId: event.eventId, tenantId: event.tenantId },
          'Skipped an audit record that was already stored; it arrived again under another event id.',
        );
      }
    },
    logger: options.logger,
  });
}

/** The consumer of a running service, started in the background. */
export interface AuditIngest {
  /** Resolves once the consumer has started; rejects only when stop() came first. */
  readonly started: Promise<EventConsumer>;
  /** The consumer, once started. */
  readonly consumer: EventConsumer | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the consumer in the background, retrying until Kafka is reachable, so the service serves
 * the audit log and takes incident reports while Kafka is down. Records published meanwhile wait in
 * Kafka. Readiness reports Kafka unavailable until then.
 */
export function startAuditIngest(options: AuditConsumerOptions): AuditIngest {
  const stopping = new AbortController();
  let consumer: EventConsumer | undefined;

  const started = (async () => {
    for (let failures = 1; ; failures++) {
      try {
        consumer = await startAuditConsumer(options);
        return consumer;
      } catch (error) {
        if (stopping.signal.aborted) throw new Error('The audit consumer was stopped before it started.');
        const retryInMs = backoffDelay(failures, { initialMs: 1_000, maxMs: 30_000 });
        if (failures === 1 || failures % 10 === 0) {
          options.logger.warn(
            { err: error, failures, retryInMs },
            'The audit consumer could not start; audit records wait in Kafka until it does. Retrying.',
          );
        }
        await delay(retryInMs, stopping.signal);
        if (stopping.signal.aborted) throw new Error('The audit consumer was stopped before it started.');
      }
    }
  })();
  // A caller may never await `started`, and a rejection after stop() is expected, not an error.
  started.catch(() => undefined);

  return {
    started,
    get consumer() {
      return consumer;
    },
    async stop() {
      stopping.abort();
      await started.catch(() => undefined);
      await consumer?.stop();
    },
  };
}
