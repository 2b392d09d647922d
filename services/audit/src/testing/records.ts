import { newId } from '@hms/service-kit';
import type { AuditRecordInput } from '../records/input.js';

/** Builds a valid record of `tenantId`: a doctor reading a patient, unless `overrides` replace fields. */
export function auditRecord(tenantId: string, overrides: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    recordId: newId(),
    tenantId,
    occurredAt: new Date(),
    actor: {
      kind: 'USER',
      id: newId(),
      sessionId: newId(),
      roles: ['doctor'],
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    },
    action: 'patient.read',
    operation: 'READ',
    entityType: 'Patient',
    entityId: newId(),
    patientId: newId(),
    changedFields: [],
    outcome: 'SUCCESS',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    requestId: newId(),
    producer: 'clinical',
    ...overrides,
  };
}

/** Builds `count` records of `tenantId`, one second apart, ending now. */
export function auditRecords(tenantId: string, count: number, overrides: Partial<AuditRecordInput> = {}) {
  const now = Date.now();
  return Array.from({ length: count }, (_, index) =>
    auditRecord(tenantId, { occurredAt: new Date(now - (count - index) * 1000), ...overrides }),
  );
}
