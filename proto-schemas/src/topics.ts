/** Kafka topic of identity's domain events (tenants, users, roles, sessions), keyed by aggregate id. */
export const IDENTITY_EVENTS_TOPIC = 'hms.identity.events.v1';
/** Kafka topic of clinical's domain events (patients), keyed by aggregate id. */
export const CLINICAL_EVENTS_TOPIC = 'hms.clinical.events.v1';
/** Kafka topic of scheduling's domain events (schedules, appointments), keyed by aggregate id. */
export const SCHEDULING_EVENTS_TOPIC = 'hms.scheduling.events.v1';
/** Kafka topic of audit records, keyed by tenant id so each tenant's hash chain stays in one partition. */
export const AUDIT_TOPIC = 'hms.audit.v1';

/** Returns the dead-letter topic of a topic, where consumers put messages that still fail after retries. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}
