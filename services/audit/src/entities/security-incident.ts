import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const INCIDENT_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

export const INCIDENT_STATUSES = ['OPEN', 'RESOLVED'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/**
 * A security incident a staff member reported, such as a lost device or a suspected privacy breach.
 * `reportedBy` and `resolvedBy` are user ids of the tenant.
 */
export const SecurityIncident = defineEntity({
  name: 'SecurityIncident',
  tableName: 'security_incidents',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    summary: p.text(),
    description: p.text().nullable(),
    occurredAt: p.datetime().nullable(),
    patientId: p.uuid().nullable(),
    severity: p.enum(INCIDENT_SEVERITIES),
    status: p.enum(INCIDENT_STATUSES),
    reportedAt: p.datetime(),
    reportedBy: p.text(),
    resolvedAt: p.datetime().nullable(),
    resolvedBy: p.text().nullable(),
    resolution: p.text().nullable(),
  },
  filters: tenantFilters,
});

export type SecurityIncident = InferEntity<typeof SecurityIncident>;
