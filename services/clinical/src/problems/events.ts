import {
  CLINICAL_EVENTS_TOPIC,
  Operation,
  Outcome,
  ProblemAddedSchema,
  ProblemRecurredSchema,
  ProblemResolvedSchema,
} from '@hms/proto-schemas';
import type { EntityManager, EventOrigin } from '@hms/service-kit';
import { publisher } from '../patients/events.js';

const PROBLEM = 'Problem';

/** Writes `clinical.problem.added` and its CREATE audit record. */
export async function problemAdded(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  problem: { id: string; patientId: string; encounterId?: string | null },
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.problem.added',
    tenantId,
    subject: { type: PROBLEM, id: problem.id },
    payloadSchema: ProblemAddedSchema,
    payload: { problemId: problem.id, patientId: problem.patientId, encounterId: problem.encounterId ?? '' },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'problem.create',
    operation: Operation.CREATE,
    entity: { type: PROBLEM, id: problem.id },
    patientId: problem.patientId,
    outcome: Outcome.SUCCESS,
  });
}

/**
 * Writes `clinical.problem.resolved` or `clinical.problem.recurred` and the UPDATE audit record of
 * the status change.
 */
export async function problemStatusChanged(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  problem: { id: string; patientId: string },
  change: 'resolved' | 'recurred',
): Promise<void> {
  const payload = { problemId: problem.id, patientId: problem.patientId };
  const subject = { type: PROBLEM, id: problem.id };
  if (change === 'resolved') {
    await publisher.publishEvent(em, origin, {
      topic: CLINICAL_EVENTS_TOPIC,
      type: 'clinical.problem.resolved',
      tenantId,
      subject,
      payloadSchema: ProblemResolvedSchema,
      payload,
    });
  } else {
    await publisher.publishEvent(em, origin, {
      topic: CLINICAL_EVENTS_TOPIC,
      type: 'clinical.problem.recurred',
      tenantId,
      subject,
      payloadSchema: ProblemRecurredSchema,
      payload,
    });
  }
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: `problem.${change === 'resolved' ? 'resolve' : 'recur'}`,
    operation: Operation.UPDATE,
    entity: subject,
    patientId: problem.patientId,
    changedFields: ['status', 'resolvedAt'],
    outcome: Outcome.SUCCESS,
  });
}
