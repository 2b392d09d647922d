import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Actor_Kind,
  AuditRecordSchema,
  create,
  encodeEnvelope,
  EventEnvelopeSchema,
  Operation,
  Outcome,
  packPayload,
  SubjectSchema,
  timestampFromDate,
  type AuditRecord,
} from '@hms/proto-schemas';
import { newId } from '@hms/service-kit';
import { decodeAuditRecordMessage } from '../decode.js';

const tenantId = newId();

function message(
  fields: Partial<Omit<AuditRecord, '$typeName' | '$unknown'>> = {},
  envelopeTenant = tenantId,
): Uint8Array {
  const record = create(AuditRecordSchema, {
    recordId: newId(),
    tenantId,
    occurredAt: timestampFromDate(new Date('2026-12-04T09:30:00.123Z')),
    actor: { kind: Actor_Kind.USER, id: 'user-1', sessionId: 's-1', roles: ['doctor'], ip: '127.0.0.1' },
    action: 'patient.update',
    operation: Operation.UPDATE,
    entityType: 'Patient',
    entityId: 'p-1',
    changedFields: ['phone'],
    outcome: Outcome.SUCCESS,
    producer: 'clinical',
    ...fields,
  });
  return encodeEnvelope(
    create(EventEnvelopeSchema, {
      eventId: newId(),
      type: 'audit.record',
      tenantId: envelopeTenant,
      producer: 'clinical',
      payload: packPayload(AuditRecordSchema, record),
    }),
  );
}

describe('audit record messages', () => {
  test('decodes every field', () => {
    const event = decodeAuditRecordMessage(message());

    assert.equal(event.tenantId, tenantId);
    assert.equal(event.type, 'audit.record');
    assert.equal(event.record.operation, 'UPDATE');
    assert.equal(event.record.outcome, 'SUCCESS');
    assert.equal(event.record.actor.kind, 'USER');
    assert.deepEqual(event.record.actor.roles, ['doctor']);
    assert.deepEqual(event.record.changedFields, ['phone']);
    assert.equal(event.record.occurredAt.toISOString(), '2026-12-04T09:30:00.123Z');
    assert.equal(event.record.actor.userAgent, '');
  });

  test('unspecified actor kind kept', () => {
    const event = decodeAuditRecordMessage(message({ actor: undefined }));

    assert.equal(event.record.actor.kind, 'UNSPECIFIED');
  });

  test('unspecified operation rejected', () => {
    assert.throws(() => decodeAuditRecordMessage(message({ operation: Operation.UNSPECIFIED })), /operation/);
  });

  test('unspecified outcome rejected', () => {
    assert.throws(() => decodeAuditRecordMessage(message({ outcome: Outcome.UNSPECIFIED })), /outcome/);
  });

  test('missing time rejected', () => {
    assert.throws(() => decodeAuditRecordMessage(message({ occurredAt: undefined })), /occurredAt/);
  });

  test('tenant mismatch rejected', () => {
    assert.throws(() => decodeAuditRecordMessage(message({}, newId())), /tenantId differs/);
  });

  test('other payload rejected', () => {
    const bytes = encodeEnvelope(
      create(EventEnvelopeSchema, {
        eventId: newId(),
        type: 'clinical.patient.registered',
        tenantId,
        payload: packPayload(SubjectSchema, create(SubjectSchema, { type: 'Patient', id: 'p-1' })),
      }),
    );

    assert.throws(() => decodeAuditRecordMessage(bytes), /not an hms\.audit\.v1\.AuditRecord/);
  });

  test('garbage rejected', () => {
    assert.throws(() => decodeAuditRecordMessage(Uint8Array.of(0x0f, 0x01)));
  });
});
