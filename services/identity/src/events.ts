import { IDENTITY_EVENTS_TOPIC, Operation, Outcome, type packPayload } from '@hms/proto-schemas';
import { createPublisher, type DomainEvent, type EntityManager, type EventOrigin } from '@hms/service-kit';

/** The publisher of identity's domain events and audit records. */
export const publisher = createPublisher('identity');

/** The origin of changes made without a request, such as by a command-line tool: the system. */
export const SYSTEM_ORIGIN: EventOrigin = {};

/** A generated message schema of identity's events, such as UserCreatedSchema. */
type EventSchema = Parameters<typeof packPayload>[0];

/** The audit record fields of an identity event beyond its entity and tenant. */
export interface AuditOf {
  action: string;
  operation: Operation;
  outcome?: Outcome;
  changedFields?: readonly string[];
  reason?: string;
}

/**
 * Writes an identity domain event and its audit record to the outbox, in the transaction of `em`.
 * The audit record names the event's subject as its entity. Payloads carry ids, names of roles,
 * settings and fields, never passwords, tokens or login names.
 */
export async function emit<Desc extends EventSchema>(
  em: EntityManager,
  origin: EventOrigin,
  event: Omit<DomainEvent<Desc>, 'topic'>,
  audit: AuditOf,
): Promise<void> {
  await publisher.publishEvent(em, origin, { ...event, topic: IDENTITY_EVENTS_TOPIC });
  await publisher.recordAudit(em, origin, {
    tenantId: event.tenantId,
    action: audit.action,
    operation: audit.operation,
    entity: event.subject,
    changedFields: audit.changedFields,
    outcome: audit.outcome ?? Outcome.SUCCESS,
    reason: audit.reason,
  });
}
