import { randomBytes } from 'node:crypto';
import {
  Actor_Kind,
  ActorSchema,
  AUDIT_TOPIC,
  AuditRecordSchema,
  create,
  encodeEnvelope,
  EventEnvelopeSchema,
  Operation,
  Outcome,
  packPayload,
  timestampFromDate,
  type Actor,
} from '@hms/proto-schemas';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/claims.js';
import { isUuid, newId } from '../ids.js';
import {
  checkedSchema,
  enqueue,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  outboxMessageKey,
  schemaOf,
  TENANT_ID_HEADER,
  type OutboxEvent,
} from './outbox.js';
import { currentTraceHeaders, TRACEPARENT_HEADER, TRACESTATE_HEADER, type MessageHeaders } from './trace.js';

export { Operation as AuditOperation, Outcome as AuditOutcome };

/** A generated protobuf message schema, such as PatientRegisteredSchema. */
type DescMessage = Parameters<typeof packPayload>[0];
/** The fields of a message of `Desc`, as a plain object or a created message. */
type PayloadInit<Desc extends DescMessage> = NonNullable<Parameters<typeof create<Desc>>[1]>;

/** The actor of an event when there is no verified principal yet (a sign-in) or it is someone else. */
export interface ActorOverride {
  kind: 'user' | 'service' | 'platform' | 'system';
  /** User, service account or operator id; empty for the system. */
  id?: string;
  sessionId?: string;
  roles?: readonly string[];
}

/**
 * The origin of an event. A SubgraphContext fits as is, and jobs or consumers pass what they know.
 * Without a principal or an actor the event is attributed to the system.
 */
export interface EventOrigin {
  principal?: Principal;
  /** Takes precedence over the principal, e.g. the user who just signed in. */
  actor?: ActorOverride;
  requestId?: string;
  /** W3C trace id of the request; the event's traceparent carries it. */
  traceId?: string;
  clientIp?: string;
  userAgent?: string;
}

/** A domain event to write to the outbox. */
export interface DomainEvent<Desc extends DescMessage> {
  topic: string;
  /** Dotted event name, such as `clinical.patient.registered`. */
  type: string;
  tenantId: string;
  subject: { type: string; id: string };
  payloadSchema: Desc;
  payload: PayloadInit<Desc>;
  /** Orders the events of one aggregate; the subject id unless given. */
  key?: string;
}

/** An audit record to write to the outbox; see hms.audit.v1.AuditRecord. */
export interface AuditEntry {
  /**
   * Tenant whose log the record joins. Undefined for platform-level actions, which are not recorded
   * (see recordAudit).
   */
  tenantId: string | undefined;
  /** Dotted action name, such as `patient.read` or `login.failed`. */
  action: string;
  operation: Operation;
  /** The entity acted on; the id is empty when there is none, as for a failed login of an unknown name. */
  entity: { type: string; id?: string };
  patientId?: string;
  /** Names of the changed fields, never their values. */
  changedFields?: readonly string[];
  outcome: Outcome;
  /** Free-text reason without personal or health data. */
  reason?: string;
}

/** The envelope type of audit records on the audit topic. */
export const AUDIT_RECORD_EVENT_TYPE = 'audit.record';

/**
 * Writes a domain event to the outbox of `em`'s schema, in the transaction `em` belongs to, so it is
 * published only if the change it describes commits. Returns the event id.
 */
export async function publishEvent<Desc extends DescMessage>(
  em: EntityManager,
  origin: EventOrigin,
  event: DomainEvent<Desc> & { producer: string },
): Promise<string> {
  const eventId = newId();
  const trace = traceOf(origin);
  const envelope = create(EventEnvelopeSchema, {
    eventId,
    type: event.type,
    tenantId: event.tenantId,
    occurredAt: timestampFromDate(new Date()),
    producer: event.producer,
    actor: actorOf(origin),
    subject: { type: event.subject.type, id: event.subject.id },
    trace: {
      traceparent: trace[TRACEPARENT_HEADER] ?? '',
      tracestate: trace[TRACESTATE_HEADER] ?? '',
    },
    payload: packPayload(event.payloadSchema, create(event.payloadSchema, event.payload)),
  });
  await enqueue(em, {
    eventId,
    tenantId: event.tenantId,
    type: event.type,
    topic: event.topic,
    key: event.key ?? event.subject.id,
    payload: encodeEnvelope(envelope),
    // The message headers name the same trace as the envelope, so tooling needs no decoding.
    headers: trace,
  });
  return eventId;
}

/**
 * Writes an audit record to the outbox, in the transaction of the audited change, as the payload of
 * an `audit.record` envelope on the audit topic. The message key is the tenant id alone, so one
 * tenant's records stay in one partition and the audit service chains them in order. Returns the
 * record id, or undefined when the action has no tenant.
 */
export async function recordAudit(
  em: EntityManager,
  origin: EventOrigin,
  entry: AuditEntry & { producer: string },
): Promise<string | undefined> {
  const [recordId] = await recordAudits(em, origin, [entry], entry.producer);
  return recordId;
}

/**
 * Writes several audit records of one origin with a single insert, such as the READ records of a
 * page of patients, so the cost of auditing a list does not grow with its length. Returns the ids of
 * the records written; entries without a tenant are skipped, as in recordAudit.
 */
export async function recordAudits(
  em: EntityManager,
  origin: EventOrigin,
  entries: readonly AuditEntry[],
  producer: string,
): Promise<string[]> {
  // NOTE: platform-level actions (a platform operator's sign-in, for one) carry no tenant and are not
  // recorded here, because the outbox, applied_events and the audit hash chains are all per tenant.
  // The service logs them instead; a platform audit log would need a chain of its own.
  const recorded = entries.filter((entry): entry is AuditEntry & { tenantId: string } => !!entry.tenantId);
  if (recorded.length === 0) return [];

  const occurredAt = timestampFromDate(new Date());
  const trace = traceOf(origin);
  const actor = actorOf(origin);
  const traceContext = {
    traceparent: trace[TRACEPARENT_HEADER] ?? '',
    tracestate: trace[TRACESTATE_HEADER] ?? '',
  };
  const events: OutboxEvent[] = recorded.map((entry) => {
    const recordId = newId();
    const record = create(AuditRecordSchema, {
      recordId,
      tenantId: entry.tenantId,
      occurredAt,
      actor,
      action: entry.action,
      operation: entry.operation,
      entityType: entry.entity.type,
      entityId: entry.entity.id ?? '',
      patientId: entry.patientId ?? '',
      changedFields: [...(entry.changedFields ?? [])],
      outcome: entry.outcome,
      reason: entry.reason ?? '',
      traceId: traceIdOfParent(trace[TRACEPARENT_HEADER]) ?? '',
      requestId: origin.requestId ?? '',
      producer,
    });
    // The envelope's event id is the record id, so a redelivered record is recognised either way.
    const envelope = create(EventEnvelopeSchema, {
      eventId: recordId,
      type: AUDIT_RECORD_EVENT_TYPE,
      tenantId: entry.tenantId,
      occurredAt,
      producer,
      actor,
      subject: { type: entry.entity.type, id: entry.entity.id ?? '' },
      trace: traceContext,
      payload: packPayload(AuditRecordSchema, record),
    });
    // No key: the message key is the tenant id alone, which keeps one tenant's chain in order.
    return {
      eventId: recordId,
      tenantId: entry.tenantId,
      type: AUDIT_RECORD_EVENT_TYPE,
      topic: AUDIT_TOPIC,
      payload: encodeEnvelope(envelope),
      headers: trace,
    };
  });

  if (events.length === 1) {
    await enqueue(em, events[0]!);
  } else {
    await enqueueAll(em, events);
  }
  return events.map((event) => event.eventId);
}

/**
 * Writes events to the outbox with one insert statement. It applies the rules of enqueue (a
 * transaction, UUIDs, the same headers and message key) to every row.
 */
async function enqueueAll(em: EntityManager, events: readonly OutboxEvent[]): Promise<void> {
  if (!em.isInTransaction()) {
    throw new Error(
      'recordAudits() must run inside the transaction of the change it reports (inTenantTransaction); ' +
        'outside of one, the records would be published even if the change rolled back.',
    );
  }
  const schema = checkedSchema(schemaOf(em));
  const current = currentTraceHeaders();
  const params: unknown[] = [];
  for (const event of events) {
    if (!isUuid(event.tenantId)) {
      throw new Error(`The tenant id ${JSON.stringify(event.tenantId)} is not a UUID.`);
    }
    const headers: MessageHeaders = {
      ...current,
      ...event.headers,
      [EVENT_ID_HEADER]: event.eventId,
      [EVENT_TYPE_HEADER]: event.type,
      [TENANT_ID_HEADER]: event.tenantId,
    };
    params.push(
      event.eventId,
      event.tenantId,
      event.type,
      event.topic,
      outboxMessageKey(event.tenantId, event.key),
      JSON.stringify(headers),
      Buffer.from(event.payload.buffer, event.payload.byteOffset, event.payload.byteLength),
    );
  }
  const rows = events.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
  await em.execute(
    `insert into ${schema}.outbox (event_id, tenant_id, type, topic, message_key, headers, payload)
     values ${rows}`,
    params,
  );
}

/** publishEvent and recordAudit of one service, which names itself as the producer once. */
export interface Publisher {
  readonly producer: string;
  publishEvent<Desc extends DescMessage>(
    em: EntityManager,
    origin: EventOrigin,
    event: DomainEvent<Desc>,
  ): Promise<string>;
  recordAudit(em: EntityManager, origin: EventOrigin, entry: AuditEntry): Promise<string | undefined>;
  recordAudits(em: EntityManager, origin: EventOrigin, entries: readonly AuditEntry[]): Promise<string[]>;
}

/** Returns the publisher of the service `producer`, such as `clinical`. */
export function createPublisher(producer: string): Publisher {
  return {
    producer,
    publishEvent: (em, origin, event) => publishEvent(em, origin, { ...event, producer }),
    recordAudit: (em, origin, entry) => recordAudit(em, origin, { ...entry, producer }),
    recordAudits: (em, origin, entries) => recordAudits(em, origin, entries, producer),
  };
}

/** Returns the Actor of an origin: the explicit actor, else the principal, else the system. */
export function actorOf(origin: EventOrigin): Actor {
  const where = { ip: origin.clientIp ?? '', userAgent: origin.userAgent ?? '' };
  if (origin.actor) {
    return create(ActorSchema, {
      kind: ACTOR_KINDS[origin.actor.kind],
      id: origin.actor.id ?? '',
      sessionId: origin.actor.sessionId ?? '',
      roles: [...(origin.actor.roles ?? [])],
      ...where,
    });
  }
  const principal = origin.principal;
  if (!principal) return create(ActorSchema, { kind: Actor_Kind.SYSTEM, ...where });
  return create(ActorSchema, {
    kind: ACTOR_KINDS[principal.claims.typ],
    id: principal.subject,
    sessionId: principal.sessionId ?? '',
    roles: [...principal.roles],
    ...where,
  });
}

const ACTOR_KINDS: Record<ActorOverride['kind'], Actor_Kind> = {
  user: Actor_Kind.USER,
  service: Actor_Kind.SERVICE_ACCOUNT,
  platform: Actor_Kind.PLATFORM_OPERATOR,
  system: Actor_Kind.SYSTEM,
};

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * Returns the trace headers of an event. The origin's trace id wins because the gateway logged the
 * request under it. Otherwise, or when the active span is of the same trace, the current trace is used.
 */
function traceOf(origin: EventOrigin): MessageHeaders {
  const current = currentTraceHeaders();
  const traceId = origin.traceId?.toLowerCase();
  if (!traceId || !TRACE_ID.test(traceId) || /^0+$/.test(traceId)) return current;
  if (traceIdOfParent(current[TRACEPARENT_HEADER]) === traceId) return current;
  return { [TRACEPARENT_HEADER]: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

function traceIdOfParent(traceparent: string | undefined): string | undefined {
  return traceparent?.split('-')[1];
}
