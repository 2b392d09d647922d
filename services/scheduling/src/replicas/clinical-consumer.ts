import {
  CLINICAL_EVENTS_TOPIC,
  decodeEnvelope,
  dlqTopic,
  PatientRegisteredSchema,
  timestampDate,
  type EventEnvelope,
} from '@hms/proto-schemas';
import {
  startConsumer,
  startConsumerInBackground,
  type BackgroundConsumer,
  type EntityManager,
  type EventConsumer,
} from '@hms/service-kit';
import { payloadOf } from './payload.js';
import type { ReplicaConsumerOptions } from './identity-consumer.js';

/** Consumer group of scheduling's copy of clinical's patient ids. */
export const PATIENTS_CONSUMER_GROUP = 'hms-scheduling-patients';
/** Name under which the consumer records the event ids it has applied. */
export const PATIENTS_CONSUMER_NAME = 'patients';

/**
 * Stores the id of a registered patient in the event's tenant. Scheduling keeps ids only: names and
 * demographics stay in clinical and reach clients through the graph.
 */
export async function applyClinicalEvent(em: EntityManager, envelope: EventEnvelope): Promise<void> {
  if (envelope.type !== 'clinical.patient.registered') return;
  const payload = payloadOf(envelope, PatientRegisteredSchema);
  await em.execute(
    `insert into scheduling.patients (tenant_id, id, registered_at) values (?, ?, ?)
     on conflict (tenant_id, id) do nothing`,
    [
      envelope.tenantId,
      payload.patientId,
      envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(),
    ],
  );
}

/** Consumes hms.clinical.events.v1 into scheduling's copy of patient ids. */
export async function startPatientsConsumer(options: ReplicaConsumerOptions): Promise<EventConsumer> {
  const topic = options.topic ?? CLINICAL_EVENTS_TOPIC;
  await options.bus.ensureTopics([topic, dlqTopic(topic)]);
  return startConsumer({
    bus: options.bus,
    groupId: options.groupId ?? PATIENTS_CONSUMER_GROUP,
    topics: [topic],
    orm: options.orm,
    consumerName: PATIENTS_CONSUMER_NAME,
    fromBeginning: options.fromBeginning,
    decode: (bytes) => decodeEnvelope(bytes),
    handle: (envelope, em) => applyClinicalEvent(em, envelope),
    logger: options.logger,
  });
}

/** Starts the patients consumer in the background, retrying until Kafka is reachable. */
export function startPatientsSync(options: ReplicaConsumerOptions): BackgroundConsumer {
  return startConsumerInBackground(() => startPatientsConsumer(options), {
    logger: options.logger,
    name: PATIENTS_CONSUMER_NAME,
    description: 'patient registrations',
  });
}
