import {
  CLINICAL_EVENTS_TOPIC,
  Operation,
  Outcome,
  PatientRegisteredSchema,
  PatientUpdatedSchema,
} from '@hms/proto-schemas';
import {
  createPublisher,
  memoize,
  type EntityManager,
  type EventOrigin,
  type SubgraphContext,
} from '@hms/service-kit';
import { TenantSetting } from '../entities/tenant-setting.js';
import type { PatientDraft } from './inputs.js';

/** The publisher of clinical's domain events and audit records. */
export const publisher = createPublisher('clinical');

const PATIENT = 'Patient';

/** Writes `clinical.patient.registered` and its CREATE audit record, in the registration's transaction. */
export async function patientRegistered(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  patient: { id: string; mrn: string },
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: CLINICAL_EVENTS_TOPIC,
    type: 'clinical.patient.registered',
    tenantId,
    subject: { type: PATIENT, id: patient.id },
    payloadSchema: PatientRegisteredSchema,
    payload: { patientId: patient.id, mrn: patient.mrn },
  });
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'patient.create',
    operation: Operation.CREATE,
    entity: { type: PATIENT, id: patient.id },
    patientId: patient.id,
    outcome: Outcome.SUCCESS,
  });
}

/**
 * Writes `clinical.patient.updated` and its UPDATE audit record, naming the changed fields without
 * their values. An update that changed nothing is still audited, since someone wrote to the record,
 * but publishes no event.
 */
export async function patientUpdated(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  patientId: string,
  changedFields: string[],
): Promise<void> {
  if (changedFields.length > 0) {
    await publisher.publishEvent(em, origin, {
      topic: CLINICAL_EVENTS_TOPIC,
      type: 'clinical.patient.updated',
      tenantId,
      subject: { type: PATIENT, id: patientId },
      payloadSchema: PatientUpdatedSchema,
      payload: { patientId, changedFields },
    });
  }
  await publisher.recordAudit(em, origin, {
    tenantId,
    action: 'patient.update',
    operation: Operation.UPDATE,
    entity: { type: PATIENT, id: patientId },
    patientId,
    changedFields,
    outcome: Outcome.SUCCESS,
  });
}

/** Returns the names of the fields (as the API names them) whose values differ between two drafts. */
export function changedFieldsOf(before: PatientDraft, after: PatientDraft): string[] {
  const fields = Object.keys(after) as (keyof PatientDraft)[];
  return fields.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

/**
 * Writes one READ audit record for each patient of `patientIds` that this request has not read yet,
 * all with one insert, when the tenant audits reads. Call it in the transaction that read the
 * patients, so a record exists for every read that returned data.
 */
export async function auditPatientReads(
  em: EntityManager,
  context: SubgraphContext,
  tenantId: string,
  patientIds: readonly string[],
): Promise<void> {
  await auditReads(
    em,
    context,
    tenantId,
    { entityType: PATIENT, action: 'patient.read' },
    patientIds.map((id) => ({ id, patientId: id })),
  );
}

/**
 * Writes one READ audit record for each record of `reads` (an encounter, a note) that this request has
 * not read yet, all with one insert, when the tenant audits reads. Call it in the transaction that read
 * the records.
 */
export async function auditReads(
  em: EntityManager,
  context: SubgraphContext,
  tenantId: string,
  kind: { entityType: string; action: string },
  reads: readonly { id: string; patientId: string }[],
): Promise<void> {
  const audited = memoize(context, `auditedReads:${kind.entityType}`, () => new Set<string>());
  const unread = [...new Map(reads.map((read) => [read.id, read])).values()].filter(
    (read) => !audited.has(read.id),
  );
  if (unread.length === 0) return;

  // Marked before any await, so a concurrent batch of the same request (such as open encounters and
  // the encounter list of one patient) neither records them again nor reads the setting again.
  // The statement count of a request then does not depend on the batches' timing.
  for (const read of unread) audited.add(read.id);
  if (!(await readAuditEnabled(em))) return;
  await publisher.recordAudits(
    em,
    context,
    unread.map((read) => ({
      tenantId,
      action: kind.action,
      operation: Operation.READ,
      entity: { type: kind.entityType, id: read.id },
      patientId: read.patientId,
      outcome: Outcome.SUCCESS,
    })),
  );
}

/** Reads the tenant's read-audit setting; a tenant without a settings row audits reads. */
async function readAuditEnabled(em: EntityManager): Promise<boolean> {
  const setting = await em.findOne(TenantSetting, {});
  return setting?.readAuditEnabled ?? true;
}
