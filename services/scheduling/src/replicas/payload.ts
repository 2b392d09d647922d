import { unpackPayloadAs, type EventEnvelope } from '@hms/proto-schemas';

type Schema = Parameters<typeof unpackPayloadAs>[1];

/**
 * Unpacks an event's payload as `schema`, throwing when it is missing or of another type. The
 * consumer retries and then dead-letters such an event instead of applying a half-read change.
 */
export function payloadOf<Desc extends Schema>(envelope: EventEnvelope, schema: Desc) {
  const payload = unpackPayloadAs(envelope, schema);
  if (!payload) {
    throw new Error(`Event ${envelope.eventId} (${envelope.type}) has no ${schema.typeName} payload.`);
  }
  return payload;
}
