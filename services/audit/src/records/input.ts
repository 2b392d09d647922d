import { isUuid } from '@hms/service-kit';

export const AUDIT_OPERATIONS = [
  'CREATE',
  'READ',
  'UPDATE',
  'DELETE',
  'LOGIN',
  'LOGOUT',
  'PERMISSION_CHANGE',
  'SECURITY',
  'OTHER',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

export const AUDIT_OUTCOMES = ['SUCCESS', 'FAILURE', 'DENIED'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Kinds of actor. UNSPECIFIED stores a record whose producer left the kind unset instead of rejecting it. */
export const ACTOR_KINDS = ['UNSPECIFIED', 'USER', 'SERVICE_ACCOUNT', 'PLATFORM_OPERATOR', 'SYSTEM'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** The actor of a record, as the producer recorded it. Empty strings count as absent, as in protobuf. */
export interface AuditActorInput {
  kind: ActorKind;
  id?: string | null;
  sessionId?: string | null;
  roles?: string[] | null;
  ip?: string | null;
  userAgent?: string | null;
}

/**
 * An audit record as a producer sends it: the fields of the AuditRecord protobuf message
 * (hms.audit.v1), in TypeScript. `changedFields` names fields only, never their values.
 */
export interface AuditRecordInput {
  /** UUID the producer assigned; a record delivered twice carries the same id and is stored once. */
  recordId: string;
  tenantId: string;
  occurredAt: Date;
  actor: AuditActorInput;
  /** Dotted name of what happened, such as `patient.read`. */
  action: string;
  operation: AuditOperation;
  entityType?: string | null;
  entityId?: string | null;
  patientId?: string | null;
  changedFields?: string[] | null;
  outcome: AuditOutcome;
  reason?: string | null;
  traceId?: string | null;
  requestId?: string | null;
  /** Service that wrote the record, such as `clinical`. */
  producer: string;
}

/**
 * An audit record after normalization: every optional field is a value or null, ids are lowercase,
 * and `occurredAt` has millisecond precision. Exactly these values are stored and hashed.
 */
export interface NormalizedAuditRecord {
  id: string;
  tenantId: string;
  occurredAt: Date;
  actorKind: ActorKind;
  actorId: string | null;
  actorSessionId: string | null;
  actorRoles: string[];
  actorIp: string | null;
  actorUserAgent: string | null;
  action: string;
  operation: AuditOperation;
  entityType: string | null;
  entityId: string | null;
  patientId: string | null;
  changedFields: string[];
  outcome: AuditOutcome;
  reason: string | null;
  traceId: string | null;
  requestId: string | null;
  producer: string;
}

/** Maximum length of identifiers and names (action, entity id, roles, field names, trace id…). */
export const MAX_NAME_LENGTH = 256;
/** Free text longer than these is cut rather than rejected, so that the event itself is still recorded. */
export const MAX_USER_AGENT_LENGTH = 1024;
export const MAX_REASON_LENGTH = 4000;
/** Maximum number of roles or changed field names one record lists. */
export const MAX_LIST_LENGTH = 200;

/** Raised for a record that cannot be stored as given; `problems` names each invalid field. */
export class InvalidAuditRecordError extends Error {
  constructor(
    readonly recordId: string | undefined,
    readonly problems: string[],
  ) {
    super(`Audit record ${recordId ?? '(without id)'} is invalid: ${problems.join('; ')}.`);
    this.name = 'InvalidAuditRecordError';
  }
}

/**
 * Checks a record of `tenantId` and returns the values to store. Identifiers and names that are
 * malformed or too long reject the record. Over-long free text (user agent, reason) is cut instead.
 * NUL characters are removed from every string, because PostgreSQL text cannot hold them.
 */
export function normalizeAuditRecord(input: AuditRecordInput, tenantId: string): NormalizedAuditRecord {
  const problems: string[] = [];
  const name = (value: string | null | undefined, field: string, required = false): string | null => {
    const cleaned = clean(value);
    if (cleaned === null) {
      if (required) problems.push(`${field} is missing`);
      return null;
    }
    if (cleaned.length > MAX_NAME_LENGTH)
      problems.push(`${field} is longer than ${MAX_NAME_LENGTH} characters`);
    return cleaned;
  };
  const names = (values: string[] | null | undefined, field: string): string[] => {
    const list = (values ?? []).map((value) => clean(value)).filter((value) => value !== null);
    if (list.length > MAX_LIST_LENGTH) problems.push(`${field} lists more than ${MAX_LIST_LENGTH} entries`);
    if (list.some((value) => value.length > MAX_NAME_LENGTH)) {
      problems.push(`${field} has an entry longer than ${MAX_NAME_LENGTH} characters`);
    }
    return list;
  };
  const uuid = (value: string | null | undefined, field: string, required = false): string | null => {
    const cleaned = clean(value);
    if (cleaned === null) {
      if (required) problems.push(`${field} is missing`);
      return null;
    }
    if (!isUuid(cleaned)) problems.push(`${field} is not a UUID`);
    return cleaned.toLowerCase();
  };

  const id = uuid(input.recordId, 'recordId', true);
  const recordTenant = uuid(input.tenantId, 'tenantId', true);
  if (recordTenant && recordTenant !== tenantId.toLowerCase()) {
    problems.push('tenantId differs from the tenant the record is appended to');
  }
  const occurredAt = input.occurredAt instanceof Date ? input.occurredAt : new Date(Number.NaN);
  if (Number.isNaN(occurredAt.getTime())) problems.push('occurredAt is not a valid instant');
  const actor = input.actor ?? { kind: 'UNSPECIFIED' };
  if (!(ACTOR_KINDS as readonly string[]).includes(actor.kind))
    problems.push('actor.kind is not a known kind');
  if (!(AUDIT_OPERATIONS as readonly string[]).includes(input.operation)) {
    problems.push('operation is not a known operation');
  }
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(input.outcome))
    problems.push('outcome is not a known outcome');

  const record: NormalizedAuditRecord = {
    id: id ?? '',
    tenantId: recordTenant ?? '',
    occurredAt,
    actorKind: actor.kind,
    actorId: name(actor.id, 'actor.id'),
    actorSessionId: name(actor.sessionId, 'actor.sessionId'),
    actorRoles: names(actor.roles, 'actor.roles'),
    actorIp: name(actor.ip, 'actor.ip'),
    actorUserAgent: truncate(clean(actor.userAgent), MAX_USER_AGENT_LENGTH),
    action: name(input.action, 'action', true) ?? '',
    operation: input.operation,
    entityType: name(input.entityType, 'entityType'),
    entityId: name(input.entityId, 'entityId'),
    patientId: uuid(input.patientId, 'patientId'),
    changedFields: names(input.changedFields, 'changedFields'),
    outcome: input.outcome,
    reason: truncate(clean(input.reason), MAX_REASON_LENGTH),
    traceId: name(input.traceId, 'traceId'),
    requestId: name(input.requestId, 'requestId'),
    producer: name(input.producer, 'producer', true) ?? '',
  };
  if (problems.length > 0) throw new InvalidAuditRecordError(clean(input.recordId) ?? undefined, problems);
  return record;
}

/** Returns the string without NUL characters, or null when nothing is left. */
function clean(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const cleaned = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  return cleaned === '' ? null : cleaned;
}

function truncate(value: string | null, length: number): string | null {
  if (value === null || value.length <= length) return value;
  // Cutting between the two halves of a surrogate pair would store a replacement character instead.
  const end = /[\uD800-\uDBFF]/.test(value.charAt(length - 1)) ? length - 1 : length;
  return value.slice(0, end);
}
