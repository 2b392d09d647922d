import {
  fromBinary,
  toBinary,
  type DescMessage,
  type Message,
  type MessageShape,
  type Registry,
} from '@bufbuild/protobuf';
import { anyPack, anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from './gen/hms/events/v1/envelope_pb.js';
import { payloadRegistry } from './registry.js';

/** Bytes that are not an EventEnvelope, or an envelope whose payload cannot be read. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/** Serializes an envelope to the protobuf binary form written to Kafka. */
export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return toBinary(EventEnvelopeSchema, envelope);
}

/**
 * Parses a Kafka message value, throwing EnvelopeError when the bytes are not valid protobuf or lack
 * the fields every envelope has (tenant_id is not one: platform-level events have none). The second check is needed because protobuf reads many arbitrary
 * byte strings as a message made only of unknown fields.
 */
export function decodeEnvelope(bytes: Uint8Array): EventEnvelope {
  let envelope: EventEnvelope;
  try {
    envelope = fromBinary(EventEnvelopeSchema, bytes);
  } catch (error) {
    throw new EnvelopeError(`Invalid event envelope (${bytes.length} bytes): ${(error as Error).message}`, {
      cause: error,
    });
  }
  const missing = [
    envelope.eventId ? undefined : 'event_id',
    envelope.type ? undefined : 'type',
    envelope.payload?.typeUrl ? undefined : 'payload',
  ].filter((name) => name !== undefined);
  if (missing.length > 0) {
    throw new EnvelopeError(`Invalid event envelope (${bytes.length} bytes): missing ${missing.join(', ')}`);
  }
  return envelope;
}

/** Wraps a payload message for EventEnvelope.payload. The Any's type URL carries the message's full name. */
export function packPayload<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return anyPack(schema, message);
}

/**
 * Reads the payload of an envelope as whichever HMS message its type URL names. Throws EnvelopeError
 * when the envelope has no payload or names a type the registry does not know (a producer newer than
 * this consumer, or a type URL typo), so the consumer can send the message to the dead-letter topic.
 */
export function unpackPayload(envelope: EventEnvelope, registry: Registry = payloadRegistry): Message {
  if (!envelope.payload) throw new EnvelopeError(`Event ${envelope.eventId} has no payload`);
  const message = anyUnpack(envelope.payload, registry);
  if (!message) {
    throw new EnvelopeError(
      `Event ${envelope.eventId} has a payload of unknown type ${envelope.payload.typeUrl}: update @hms/proto-schemas or pass a registry that contains it`,
    );
  }
  return message;
}

/**
 * Reads the payload of an envelope as the given message type, for consumers that handle one event
 * type. Returns undefined when the payload is of another type.
 */
export function unpackPayloadAs<Desc extends DescMessage>(
  envelope: EventEnvelope,
  schema: Desc,
): MessageShape<Desc> | undefined {
  return envelope.payload ? anyUnpack(envelope.payload, schema) : undefined;
}
