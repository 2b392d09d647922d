import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create, equals, ScalarType, type DescMessage, type Message } from '@bufbuild/protobuf';
import {
  EventEnvelopeSchema,
  decodeEnvelope,
  encodeEnvelope,
  packPayload,
  payloadRegistry,
  unpackPayload,
  unpackPayloadAs,
} from './index.js';

const payloadTypes: DescMessage[] = [];
for (const type of payloadRegistry) {
  if (type.kind === 'message') payloadTypes.push(type);
}

// Fills every string, bytes, integer, bool, enum, message and repeated string field, so a round trip that
// dropped or mixed up a field would show in the comparison.
function sample(schema: DescMessage): Message {
  const message = create(schema) as Message & Record<string, unknown>;
  for (const field of schema.fields) {
    if (field.fieldKind === 'list' && field.listKind === 'scalar' && field.scalar === ScalarType.STRING) {
      message[field.localName] = [`${field.name}-a`, `${field.name}-b`];
    } else if (field.fieldKind === 'enum') {
      message[field.localName] = 1;
    } else if (field.fieldKind === 'scalar' && field.scalar === ScalarType.STRING) {
      message[field.localName] = `${field.name}-value`;
    } else if (field.fieldKind === 'scalar' && field.scalar === ScalarType.BYTES) {
      message[field.localName] = Uint8Array.of(1, 2, 3);
    } else if (
      field.fieldKind === 'scalar' &&
      (field.scalar === ScalarType.UINT32 || field.scalar === ScalarType.INT32)
    ) {
      message[field.localName] = 5;
    } else if (field.fieldKind === 'scalar' && field.scalar === ScalarType.INT64) {
      message[field.localName] = 1_796_000_000n;
    } else if (field.fieldKind === 'scalar' && field.scalar === ScalarType.BOOL) {
      message[field.localName] = true;
    } else if (field.fieldKind === 'message') {
      message[field.localName] = sample(field.message);
    }
  }
  return message;
}

describe('payload registry', () => {
  it('contains every service payload file', () => {
    const protoDir = fileURLToPath(new URL('../proto/hms', import.meta.url));
    const serviceFiles = readdirSync(protoDir, { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.proto') && !path.startsWith('events/'))
      .map((path) => `hms/${path}`)
      .sort();
    const registered = [...new Set(payloadTypes.map((type) => type.file.proto.name))].sort();
    assert.deepEqual(registered, serviceFiles);
  });

  it('contains the payloads services publish', () => {
    const names = payloadTypes.map((type) => type.typeName);
    for (const name of [
      'hms.identity.v1.LoginFailed',
      'hms.identity.v1.SessionRevoked',
      'hms.clinical.v1.PatientRegistered',
      'hms.clinical.v1.PatientUpdated',
      'hms.scheduling.v1.AppointmentBooked',
      'hms.scheduling.v1.AppointmentCompleted',
      'hms.clinical.v1.EncounterChanged',
      'hms.clinical.v1.AdmissionChanged',
      'hms.clinical.v1.BedStatusChanged',
      'hms.clinical.v1.NoteChanged',
      'hms.clinical.v1.DischargeSummaryChanged',
      'hms.clinical.v1.VitalSignsRecorded',
      'hms.clinical.v1.PrescriptionAllergyOverridden',
      'hms.audit.v1.AuditRecord',
    ]) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(names.length, 48);
  });
});

describe('Any packing of each payload type', () => {
  for (const schema of payloadTypes) {
    it(`round-trips ${schema.typeName}`, () => {
      const payload = sample(schema);
      const envelope = create(EventEnvelopeSchema, {
        eventId: '01936d3e-7b4c-7c2a-9f10-3a4b5c6d7e8f',
        type: 'test.payload',
        tenantId: 't-1',
        payload: packPayload(schema, payload),
      });
      const decoded = decodeEnvelope(encodeEnvelope(envelope));

      assert.equal(decoded.payload?.typeUrl, `type.googleapis.com/${schema.typeName}`);
      const unpacked = unpackPayload(decoded);
      assert.equal(unpacked.$typeName, schema.typeName);
      assert.ok(equals(schema, unpacked, payload));
      const typed = unpackPayloadAs(decoded, schema);
      assert.ok(typed);
      assert.ok(equals(schema, typed, payload));
    });
  }
});
