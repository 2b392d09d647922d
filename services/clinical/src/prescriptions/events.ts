import {
  CLINICAL_EVENTS_TOPIC,
  Operation,
  Outcome,
  PrescriptionAllergyOverriddenSchema,
  PrescriptionIssuedSchema,
  PrescriptionStatusChangedSchema,
} from '@hms/proto-schemas';
import type { EntityManager, EventOrigin } from '@hms/service-kit';
import { publisher } from '../patients/events.js';

const PRESCRIPTION = 'Prescription';

/** Writes `clinical.prescription.issued` and its CREATE audit record. */
export async function prescriptionIssued(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  prescription: { id: string; patientId: string; encounterId?: string | null; prescriberId: string },
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.prescription.issued',
    tenantId,
    subject: { type: PRESCRIPTION, id: prescription.id },
    payloadSchema: PrescriptionIssuedSchema,
    payload: {
      prescriptionId: prescription.id,
      patientId: prescription.patientId,
      encounterId: prescription.encounterId ?? '',
      prescriberId: prescription.prescriberId,
    },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'prescription.create',
    operation: Operation.CREATE,
    entity: { type: PRESCRIPTION, id: prescription.id },
    patientId: prescription.patientId,
    outcome: Outcome.SUCCESS,
  });
}

/**
 * Writes `clinical.prescription.allergy_overridden` and an audit record of its own, so that
 * prescribing despite an allergy can be found in the audit log by its action. The reason stays in
 * clinical, as it is free text that may contain health data.
 */
export async function prescriptionAllergyOverridden(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  prescription: { id: string; patientId: string },
  allergyIds: string[],
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.prescription.allergy_overridden',
    tenantId,
    subject: { type: PRESCRIPTION, id: prescription.id },
    payloadSchema: PrescriptionAllergyOverriddenSchema,
    payload: { prescriptionId: prescription.id, patientId: prescription.patientId, allergyIds },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'prescription.allergy_override',
    operation: Operation.CREATE,
    entity: { type: PRESCRIPTION, id: prescription.id },
    patientId: prescription.patientId,
    changedFields: ['allergyOverrideReason', 'overriddenAllergyIds'],
    outcome: Outcome.SUCCESS,
  });
}

/** The event type of each final status. */
const STATUS_EVENT = {
  COMPLETED: 'clinical.prescription.completed',
  STOPPED: 'clinical.prescription.stopped',
  CANCELLED: 'clinical.prescription.cancelled',
} as const;

/** Writes the event of a prescription leaving ACTIVE and its UPDATE audit record. */
export async function prescriptionStatusChanged(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  prescription: { id: string; patientId: string },
  status: keyof typeof STATUS_EVENT,
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: STATUS_EVENT[status],
    tenantId,
    subject: { type: PRESCRIPTION, id: prescription.id },
    payloadSchema: PrescriptionStatusChangedSchema,
    payload: { prescriptionId: prescription.id, patientId: prescription.patientId },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: `prescription.${status.toLowerCase()}`,
    operation: Operation.UPDATE,
    entity: { type: PRESCRIPTION, id: prescription.id },
    patientId: prescription.patientId,
    changedFields: status === 'COMPLETED' ? ['status'] : ['status', 'statusReason'],
    outcome: Outcome.SUCCESS,
  });
}
