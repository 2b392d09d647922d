import {
  Actor_Kind,
  AuditRecordSchema,
  decodeEnvelope,
  Operation,
  Outcome,
  timestampDate,
  unpackPayloadAs,
  type AuditRecord,
} from '@hms/proto-schemas';
import { normalizeAuditRecord, type ActorKind, type AuditRecordInput } from '../records/input.js';

/** An audit record read from a message of hms.audit.v1, with the envelope fields the consumer needs. */
export interface AuditRecordEvent {
  eventId: string;
  tenantId: string;
  type: string;
  record: AuditRecordInput;
}

/**
 * Decodes a message of hms.audit.v1: an EventEnvelope whose payload is an hms.audit.v1.AuditRecord.
 * Throws when the bytes are no envelope, the payload is another message type, or the record is
 * invalid for the envelope's tenant, so the consumer dead-letters the message at once instead of
 * retrying what can never succeed.
 */
export function decodeAuditRecordMessage(bytes: Uint8Array): AuditRecordEvent {
  const envelope = decodeEnvelope(bytes);
  const payload = unpackPayloadAs(envelope, AuditRecordSchema);
  if (!payload) {
    throw new Error(
      `Event ${envelope.eventId} carries ${envelope.payload?.typeUrl ?? 'no payload'}, not an hms.audit.v1.AuditRecord.`,
    );
  }
  const record = auditRecordInputOf(payload);
  normalizeAuditRecord(record, envelope.tenantId);
  return { eventId: envelope.eventId, tenantId: envelope.tenantId, type: envelope.type, record };
}

/**
 * Converts the protobuf message to the store's input. Timestamps lose what is below the millisecond,
 * the precision the store keeps. Unspecified operations and outcomes stay unknown names, which
 * validation rejects, because guessing either would falsify the record.
 */
export function auditRecordInputOf(record: AuditRecord): AuditRecordInput {
  const actor = record.actor;
  return {
    recordId: record.recordId,
    tenantId: record.tenantId,
    occurredAt: record.occurredAt ? timestampDate(record.occurredAt) : new Date(Number.NaN),
    actor: {
      kind: (Actor_Kind[actor?.kind ?? Actor_Kind.UNSPECIFIED] ?? 'UNSPECIFIED') as ActorKind,
      id: actor?.id,
      sessionId: actor?.sessionId,
      roles: actor?.roles,
      ip: actor?.ip,
      userAgent: actor?.userAgent,
    },
    action: record.action,
    operation: Operation[record.operation] as AuditRecordInput['operation'],
    entityType: record.entityType,
    entityId: record.entityId,
    patientId: record.patientId,
    changedFields: record.changedFields,
    outcome: Outcome[record.outcome] as AuditRecordInput['outcome'],
    reason: record.reason,
    traceId: record.traceId,
    requestId: record.requestId,
    producer: record.producer,
  };
}
