import {
  Actor_Kind,
  AuditRecordSchema,
  create,
  encodeEnvelope,
  EventEnvelopeSchema,
  Operation,
  Outcome,
  packPayload,
  timestampFromDate,
} from '@hms/proto-schemas';
import { newId, type OutgoingMessage } from '@hms/service-kit';
import type { AuditRecordInput } from '../records/input.js';

/** Encodes a record as a producer publishes it on hms.audit.v1: an envelope keyed by the tenant id. */
export function auditRecordMessage(record: AuditRecordInput, eventId: string = newId()): OutgoingMessage {
  const payload = create(AuditRecordSchema, {
    recordId: record.recordId,
    tenantId: record.tenantId,
    occurredAt: timestampFromDate(record.occurredAt),
    actor: {
      kind: Actor_Kind[record.actor.kind],
      id: record.actor.id ?? '',
      sessionId: record.actor.sessionId ?? '',
      roles: record.actor.roles ?? [],
      ip: record.actor.ip ?? '',
      userAgent: record.actor.userAgent ?? '',
    },
    action: record.action,
    operation: Operation[record.operation],
    entityType: record.entityType ?? '',
    entityId: record.entityId ?? '',
    patientId: record.patientId ?? '',
    changedFields: record.changedFields ?? [],
    outcome: Outcome[record.outcome],
    reason: record.reason ?? '',
    traceId: record.traceId ?? '',
    requestId: record.requestId ?? '',
    producer: record.producer,
  });
  const envelope = create(EventEnvelopeSchema, {
    eventId,
    type: 'audit.record',
    tenantId: record.tenantId,
    occurredAt: timestampFromDate(record.occurredAt),
    producer: record.producer,
    payload: packPayload(AuditRecordSchema, payload),
  });
  return { key: record.tenantId, value: Buffer.from(encodeEnvelope(envelope)) };
}
