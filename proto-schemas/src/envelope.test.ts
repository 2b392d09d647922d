import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry, equals } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import {
  Actor_Kind,
  EnvelopeError,
  EventEnvelopeSchema,
  SubjectSchema,
  create,
  decodeEnvelope,
  dlqTopic,
  encodeEnvelope,
  packPayload,
  timestampFromDate,
  unpackPayload,
  unpackPayloadAs,
  type EventEnvelope,
} from './index.js';

// Subject is the payload here because the envelope helpers work the same for any message type, and
// this keeps these tests independent of the service payloads.
function sampleEnvelope(): EventEnvelope {
  return create(EventEnvelopeSchema, {
    eventId: '01936d3e-7b4c-7c2a-9f10-3a4b5c6d7e8f',
    type: 'clinical.patient.registered',
    tenantId: '0b1f4e2a-6c1d-4f7e-9a3b-2c5d8e9f0a1b',
    occurredAt: timestampFromDate(new Date('2026-12-04T09:30:00.123Z')),
    producer: 'clinical',
    actor: {
      kind: Actor_Kind.USER,
      id: 'a9c1d3e5-0000-4000-8000-000000000001',
      sessionId: 's-1',
      roles: ['doctor'],
      ip: '127.0.0.1',
      userAgent: 'node-test',
    },
    subject: { type: 'Patient', id: 'p-1' },
    trace: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: '' },
    payload: packPayload(SubjectSchema, create(SubjectSchema, { type: 'Patient', id: 'p-1' })),
  });
}

describe('encodeEnvelope and decodeEnvelope', () => {
  it('round-trips every envelope field', () => {
    const envelope = sampleEnvelope();
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    assert.ok(equals(EventEnvelopeSchema, decoded, envelope));
    assert.equal(decoded.actor?.roles[0], 'doctor');
    assert.equal(decoded.occurredAt?.nanos, 123_000_000);
  });

  it('rejects bytes that are not valid protobuf', () => {
    const valid = encodeEnvelope(sampleEnvelope());
    const cases: Array<[string, Uint8Array]> = [
      ['truncated', valid.subarray(0, valid.length - 5)],
      ['invalid wire type', Uint8Array.of(0x0f, 0x01)],
      ['length beyond the end', Uint8Array.of(0x0a, 0x7f, 0x61)],
    ];
    for (const [name, bytes] of cases) {
      assert.throws(
        () => decodeEnvelope(bytes),
        (error: unknown) => error instanceof EnvelopeError && /^Invalid event envelope/.test(error.message),
        name,
      );
    }
  });

  it('rejects parseable bytes without envelope fields', () => {
    assert.throws(() => decodeEnvelope(new Uint8Array()), /missing event_id, type, payload/);
    // Plain text often parses as a message of unknown fields, so the parse alone proves nothing.
    assert.throws(() => decodeEnvelope(new TextEncoder().encode('hello')), EnvelopeError);
  });
});

describe('packPayload and unpackPayload', () => {
  const registry = createRegistry(SubjectSchema);

  it('unpacks the payload by its type URL', () => {
    const payload = unpackPayload(decodeEnvelope(encodeEnvelope(sampleEnvelope())), registry);
    assert.equal(payload.$typeName, 'hms.events.v1.Subject');
    assert.equal(sampleEnvelope().payload?.typeUrl, 'type.googleapis.com/hms.events.v1.Subject');
  });

  it('rejects a payload of unknown type', () => {
    const envelope = sampleEnvelope();
    envelope.payload = packPayload(DurationSchema, create(DurationSchema, { seconds: 1n }));
    assert.throws(
      () => unpackPayload(envelope, registry),
      /unknown type type.googleapis.com\/google.protobuf.Duration/,
    );
  });

  it('unpacks as an expected type', () => {
    const envelope = sampleEnvelope();
    assert.equal(unpackPayloadAs(envelope, SubjectSchema)?.id, 'p-1');
    assert.equal(unpackPayloadAs(envelope, DurationSchema), undefined);
  });
});

describe('dlqTopic', () => {
  it('appends .dlq', () => {
    assert.equal(dlqTopic('hms.audit.v1'), 'hms.audit.v1.dlq');
  });
});
