import { CLINICAL_EVENTS_TOPIC, Operation, Outcome, type packPayload } from '@hms/proto-schemas';
import type { DomainEvent, EntityManager, EventOrigin } from '@hms/service-kit';
import { publisher } from '../patients/events.js';

/** A generated protobuf message schema, such as EncounterChangedSchema. */
type PayloadSchema = Parameters<typeof packPayload>[0];

/** One change of the encounter area: its domain event and its audit record. */
export interface Change<Desc extends PayloadSchema> {
  /** Dotted event type, such as `clinical.encounter.closed`. */
  type: string;
  subject: { type: string; id: string };
  payloadSchema: Desc;
  payload: DomainEvent<Desc>['payload'];
  /** Orders the events of one aggregate. It is the subject id unless given. */
  key?: string;
  audit: {
    /** Dotted action, such as `encounter.close`. */
    action: string;
    operation: Operation;
    patientId?: string;
    /** Names of the changed fields, never their values. */
    changedFields?: readonly string[];
    /** Free-text reason without personal or health data. Never the user's text. */
    reason?: string;
  };
}

/**
 * Writes the domain event of a change and its audit record to the outbox, in the transaction of the
 * change, so both are published only if it commits.
 */
export async function recordChange<Desc extends PayloadSchema>(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  change: Change<Desc>,
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: change.type,
    tenantId,
    subject: change.subject,
    payloadSchema: change.payloadSchema,
    payload: change.payload,
    key: change.key,
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: change.audit.action,
    operation: change.audit.operation,
    entity: change.subject,
    patientId: change.audit.patientId,
    changedFields: change.audit.changedFields,
    outcome: Outcome.SUCCESS,
    reason: change.audit.reason,
  });
}

/**
 * Writes the audit record of a write that changed nothing, such as an update sending stored values.
 * It is still audited, because someone wrote to the record, but it publishes no event.
 */
export async function recordUnchangedWrite(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  subject: { type: string; id: string },
  audit: Change<PayloadSchema>['audit'],
): Promise<void> {
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: audit.action,
    operation: audit.operation,
    entity: subject,
    patientId: audit.patientId,
    changedFields: [],
    outcome: Outcome.SUCCESS,
  });
}

export { Operation };
