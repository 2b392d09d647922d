import {
  CLINICAL_EVENTS_TOPIC,
  Operation,
  Outcome,
  VitalSignsEnteredInErrorSchema,
  VitalSignsRecordedSchema,
} from '@hms/proto-schemas';
import type { EntityManager, EventOrigin } from '@hms/service-kit';
import { publisher } from '../patients/events.js';

const PANEL = 'VitalSignsPanel';

/**
 * Writes `clinical.vitals.recorded` and its CREATE audit record, naming the measured input fields
 * (such as bodyTemperature) without their values.
 */
export async function vitalsRecorded(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  panel: { id: string; patientId: string; encounterId?: string | null },
  measurementIds: string[],
  fields: string[],
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.vitals.recorded',
    tenantId,
    subject: { type: PANEL, id: panel.id },
    payloadSchema: VitalSignsRecordedSchema,
    payload: {
      panelId: panel.id,
      patientId: panel.patientId,
      encounterId: panel.encounterId ?? '',
      measurementIds,
    },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'vitals.create',
    operation: Operation.CREATE,
    entity: { type: PANEL, id: panel.id },
    patientId: panel.patientId,
    changedFields: fields,
    outcome: Outcome.SUCCESS,
  });
}

/** Writes `clinical.vitals.entered_in_error` and its UPDATE audit record. */
export async function vitalsEnteredInError(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  panel: { id: string; patientId: string },
  derivedMeasurementIds: string[],
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.vitals.entered_in_error',
    tenantId,
    subject: { type: PANEL, id: panel.id },
    payloadSchema: VitalSignsEnteredInErrorSchema,
    payload: { panelId: panel.id, patientId: panel.patientId, derivedMeasurementIds },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'vitals.entered_in_error',
    operation: Operation.UPDATE,
    entity: { type: PANEL, id: panel.id },
    patientId: panel.patientId,
    changedFields: ['status', 'enteredInErrorReason'],
    outcome: Outcome.SUCCESS,
  });
}
