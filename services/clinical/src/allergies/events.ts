import {
  AllergyRecordedSchema,
  AllergyUpdatedSchema,
  CLINICAL_EVENTS_TOPIC,
  Operation,
  Outcome,
} from '@hms/proto-schemas';
import type { EntityManager, EventOrigin } from '@hms/service-kit';
import { publisher } from '../patients/events.js';

const ALLERGY = 'AllergyIntolerance';

/** Writes `clinical.allergy.recorded` and its CREATE audit record. */
export async function allergyRecorded(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  allergy: { id: string; patientId: string; encounterId?: string | null },
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.allergy.recorded',
    tenantId,
    subject: { type: ALLERGY, id: allergy.id },
    payloadSchema: AllergyRecordedSchema,
    payload: { allergyId: allergy.id, patientId: allergy.patientId, encounterId: allergy.encounterId ?? '' },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'allergy.create',
    operation: Operation.CREATE,
    entity: { type: ALLERGY, id: allergy.id },
    patientId: allergy.patientId,
    outcome: Outcome.SUCCESS,
  });
}

/** Writes `clinical.allergy.updated` and its UPDATE audit record, naming the changed fields. */
export async function allergyUpdated(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  allergy: { id: string; patientId: string },
  changedFields: string[],
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.allergy.updated',
    tenantId,
    subject: { type: ALLERGY, id: allergy.id },
    payloadSchema: AllergyUpdatedSchema,
    payload: { allergyId: allergy.id, patientId: allergy.patientId, changedFields },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'allergy.update',
    operation: Operation.UPDATE,
    entity: { type: ALLERGY, id: allergy.id },
    patientId: allergy.patientId,
    changedFields,
    outcome: Outcome.SUCCESS,
  });
}
