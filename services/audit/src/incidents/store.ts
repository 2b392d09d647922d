import { LockMode } from '@mikro-orm/postgresql';
import {
  decodeCursor,
  encodeCursor,
  HmsError,
  InputErrors,
  isUuid,
  newId,
  pageSize,
  toConnection,
  type Connection,
  type EntityManager,
} from '@hms/service-kit';
import type { RequestAuditFields } from '../audit-context.js';
import {
  INCIDENT_SEVERITIES,
  SecurityIncident,
  type IncidentSeverity,
  type IncidentStatus,
} from '../entities/security-incident.js';
import { appendInTransaction } from '../records/append.js';

export const MAX_SUMMARY_LENGTH = 200;
export const MAX_TEXT_LENGTH = 10_000;
/** Clock difference allowed between a reporter's device and the server for `occurredAt`. */
const CLOCK_TOLERANCE_MS = 5 * 60_000;

export interface ReportIncidentInput {
  summary: string;
  description?: string | null;
  occurredAt?: Date | null;
  patientId?: string | null;
  severity: IncidentSeverity;
}

/** Validates a report and returns it trimmed, with empty optional text as null. */
function validReport(input: ReportIncidentInput, now: Date): ReportIncidentInput {
  const errors = new InputErrors();
  const summary = input.summary.trim();
  if (!summary) errors.add('input.summary', 'must not be empty');
  else if (summary.length > MAX_SUMMARY_LENGTH) {
    errors.add('input.summary', `must be at most ${MAX_SUMMARY_LENGTH} characters`);
  } else if (/[\r\n]/.test(summary)) {
    errors.add('input.summary', 'must be one line; put details in the description');
  }
  const description = input.description?.trim() || null;
  if (description && description.length > MAX_TEXT_LENGTH) {
    errors.add('input.description', `must be at most ${MAX_TEXT_LENGTH} characters`);
  }
  if (input.occurredAt && input.occurredAt.getTime() > now.getTime() + CLOCK_TOLERANCE_MS) {
    errors.add('input.occurredAt', 'must not be in the future');
  }
  const patientId = input.patientId?.trim() || null;
  if (patientId && !isUuid(patientId)) errors.add('input.patientId', 'must be a patient id (a UUID)');
  if (!INCIDENT_SEVERITIES.includes(input.severity)) errors.add('input.severity', 'is not a known severity');
  errors.throwIfAny();
  return {
    summary,
    description,
    occurredAt: input.occurredAt ?? null,
    patientId: patientId?.toLowerCase() ?? null,
    severity: input.severity,
  };
}

/**
 * Stores a new incident report and appends its audit record in the same transaction. The audit
 * record names the fields given, never their text, which may describe a patient.
 */
export async function reportIncident(
  em: EntityManager,
  tenantId: string,
  request: RequestAuditFields,
  input: ReportIncidentInput,
  now: Date,
): Promise<SecurityIncident> {
  const report = validReport(input, now);
  const incident = em.create(SecurityIncident, {
    id: newId(),
    tenantId,
    summary: report.summary,
    description: report.description ?? null,
    occurredAt: report.occurredAt ?? null,
    patientId: report.patientId ?? null,
    severity: report.severity,
    status: 'OPEN',
    reportedAt: now,
    reportedBy: request.actor.id ?? '',
  });
  await em.flush();

  const given = (['summary', 'description', 'occurredAt', 'patientId', 'severity'] as const).filter(
    (field) => report[field] !== null && report[field] !== undefined,
  );
  await appendInTransaction(em, tenantId, [
    {
      ...request,
      recordId: newId(),
      tenantId,
      occurredAt: now,
      action: 'security_incident.report',
      operation: 'CREATE',
      entityType: 'SecurityIncident',
      entityId: incident.id,
      patientId: incident.patientId,
      changedFields: given,
      outcome: 'SUCCESS',
    },
  ]);
  return incident;
}

/**
 * Closes an open incident and appends the audit record of the resolution in the same transaction.
 * The incident row is locked first, so two administrators resolving at once get one success and one
 * CONFLICT.
 */
export async function resolveIncident(
  em: EntityManager,
  tenantId: string,
  request: RequestAuditFields,
  id: string,
  resolution: string,
  now: Date,
): Promise<SecurityIncident> {
  const errors = new InputErrors();
  if (!isUuid(id)) errors.add('id', 'must be an incident id (a UUID)');
  const text = resolution.trim();
  if (!text) errors.add('resolution', 'must not be empty');
  else if (text.length > MAX_TEXT_LENGTH)
    errors.add('resolution', `must be at most ${MAX_TEXT_LENGTH} characters`);
  errors.throwIfAny();

  const incident = await em.findOne(SecurityIncident, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!incident) throw HmsError.notFound('SecurityIncident', id);
  if (incident.status === 'RESOLVED') {
    throw HmsError.conflict(`Security incident ${id} is already resolved.`, { id });
  }

  incident.status = 'RESOLVED';
  incident.resolution = text;
  incident.resolvedAt = now;
  incident.resolvedBy = request.actor.id ?? '';
  await em.flush();

  await appendInTransaction(em, tenantId, [
    {
      ...request,
      recordId: newId(),
      tenantId,
      occurredAt: now,
      action: 'security_incident.resolve',
      operation: 'UPDATE',
      entityType: 'SecurityIncident',
      entityId: incident.id,
      patientId: incident.patientId,
      changedFields: ['status', 'resolution', 'resolvedAt', 'resolvedBy'],
      outcome: 'SUCCESS',
    },
  ]);
  return incident;
}

export interface ListIncidentsArguments {
  status?: IncidentStatus | null;
  first?: number | null;
  after?: string | null;
}

/** Reads one page of the tenant's incidents, newest report first. The cursor is (reportedAt, id). */
export async function listIncidents(
  em: EntityManager,
  args: ListIncidentsArguments,
): Promise<Connection<SecurityIncident>> {
  const size = pageSize(args.first);
  const after = incidentCursor(args.after);
  const where = args.status ? { status: args.status } : {};

  const totalCount = await em.count(SecurityIncident, where);
  if (size === 0) return toConnection([], 0, totalCount, () => '', after !== undefined);

  const keyset = after
    ? {
        $or: [
          { reportedAt: { $lt: after.reportedAt } },
          { reportedAt: after.reportedAt, id: { $lt: after.id } },
        ],
      }
    : {};
  const rows = await em.find(
    SecurityIncident,
    { ...where, ...keyset },
    { orderBy: { reportedAt: 'desc', id: 'desc' }, limit: size + 1 },
  );
  return toConnection(
    rows,
    size,
    totalCount,
    (incident) => encodeCursor([incident.reportedAt.toISOString(), incident.id]),
    after !== undefined,
  );
}

function incidentCursor(after: string | null | undefined): { reportedAt: Date; id: string } | undefined {
  const key = decodeCursor(after, 2);
  if (!key) return undefined;
  const [reportedAt, id] = key;
  const date = typeof reportedAt === 'string' ? new Date(reportedAt) : undefined;
  if (!date || Number.isNaN(date.getTime()) || typeof id !== 'string' || !isUuid(id)) {
    throw HmsError.badUserInput([{ field: 'after', message: 'is not a cursor returned by this list' }]);
  }
  return { reportedAt: date, id };
}
