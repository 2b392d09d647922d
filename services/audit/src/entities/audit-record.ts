import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/**
 * One stored audit record, a link of its tenant's hash chain. The service reads and writes these rows
 * with SQL (records/append.ts, records/query.ts), because the chain needs exact control of every
 * stored value. This definition gives the ORM the table's shape.
 */
export const AuditRecord = defineEntity({
  name: 'AuditRecord',
  tableName: 'audit_records',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    seq: p.bigint('bigint'),
    occurredAt: p.datetime(),
    receivedAt: p.datetime(),
    actorKind: p.text(),
    actorId: p.text().nullable(),
    actorSessionId: p.text().nullable(),
    actorRoles: p.array(),
    actorIp: p.text().nullable(),
    actorUserAgent: p.text().nullable(),
    action: p.text(),
    operation: p.text(),
    entityType: p.text().nullable(),
    entityId: p.text().nullable(),
    patientId: p.uuid().nullable(),
    changedFields: p.array(),
    outcome: p.text(),
    reason: p.text().nullable(),
    traceId: p.text().nullable(),
    requestId: p.text().nullable(),
    producer: p.text(),
    prevHash: p.blob(),
    hash: p.blob(),
  },
  filters: tenantFilters,
});

export type AuditRecord = InferEntity<typeof AuditRecord>;
