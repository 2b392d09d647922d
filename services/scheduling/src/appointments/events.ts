import {
  AppointmentBookedSchema,
  AppointmentCancelledSchema,
  AppointmentCheckedInSchema,
  AppointmentCompletedSchema,
  AppointmentKind as AppointmentKindProto,
  AppointmentNoShowSchema,
  AppointmentRescheduledSchema,
  AppointmentStartedSchema,
  CancellationReason as CancellationReasonProto,
  Operation,
  Outcome,
  SCHEDULING_EVENTS_TOPIC,
} from '@hms/proto-schemas';
import { memoize, type EntityManager, type EventOrigin, type SubgraphContext } from '@hms/service-kit';
import { publisher, timestampOf } from '../events.js';
import type { AppointmentRecord } from './model.js';

const APPOINTMENT = 'Appointment';

function kindOf(appointment: AppointmentRecord): AppointmentKindProto {
  return AppointmentKindProto[appointment.kind];
}

/** Writes the audit record of a change to an appointment, naming its patient. */
async function audit(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  appointment: AppointmentRecord,
  action: string,
  operation: Operation,
  changedFields: string[],
): Promise<void> {
  await publisher.recordAudit(em, origin, {
    tenantId,
    action,
    operation,
    entity: { type: APPOINTMENT, id: appointment.id },
    patientId: appointment.patientId,
    changedFields,
    outcome: Outcome.SUCCESS,
  });
}

/** Writes `scheduling.appointment.booked` and its CREATE audit record; `action` names how it was made. */
export async function appointmentBooked(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  appointment: AppointmentRecord,
  action: 'appointment.book' | 'appointment.walk_in' | 'appointment.import',
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: SCHEDULING_EVENTS_TOPIC,
    type: 'scheduling.appointment.booked',
    tenantId,
    subject: { type: APPOINTMENT, id: appointment.id },
    payloadSchema: AppointmentBookedSchema,
    payload: {
      appointmentId: appointment.id,
      practitionerId: appointment.practitionerId,
      patientId: appointment.patientId,
      department: appointment.department,
      location: appointment.location ?? '',
      startsAt: timestampOf(appointment.startsAt),
      endsAt: timestampOf(appointment.endsAt),
      kind: kindOf(appointment),
      patientOverlapAllowed: appointment.patientOverlapAllowed,
      sourceId: appointment.sourceId ?? '',
    },
  });
  await audit(em, origin, tenantId, appointment, action, Operation.CREATE, []);
}

/** Writes `scheduling.appointment.rescheduled` and its UPDATE audit record. */
export async function appointmentRescheduled(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  before: AppointmentRecord,
  after: AppointmentRecord,
): Promise<void> {
  await publisher.publishEvent(em, origin, {
    topic: SCHEDULING_EVENTS_TOPIC,
    type: 'scheduling.appointment.rescheduled',
    tenantId,
    subject: { type: APPOINTMENT, id: after.id },
    payloadSchema: AppointmentRescheduledSchema,
    payload: {
      appointmentId: after.id,
      practitionerId: after.practitionerId,
      patientId: after.patientId,
      oldStartsAt: timestampOf(before.startsAt),
      oldEndsAt: timestampOf(before.endsAt),
      startsAt: timestampOf(after.startsAt),
      endsAt: timestampOf(after.endsAt),
    },
  });
  await audit(em, origin, tenantId, after, 'appointment.reschedule', Operation.UPDATE, [
    'startsAt',
    'endsAt',
  ]);
}

/**
 * Writes the event and UPDATE audit record of a status change: cancelled, checked_in, started,
 * completed or no_show.
 */
export async function appointmentStatusChanged(
  em: EntityManager,
  origin: EventOrigin,
  tenantId: string,
  appointment: AppointmentRecord,
): Promise<void> {
  const ids = {
    appointmentId: appointment.id,
    practitionerId: appointment.practitionerId,
    patientId: appointment.patientId,
  };
  const base = {
    topic: SCHEDULING_EVENTS_TOPIC,
    tenantId,
    subject: { type: APPOINTMENT, id: appointment.id },
  };
  switch (appointment.status) {
    case 'CANCELLED':
      await publisher.publishEvent(em, origin, {
        ...base,
        type: 'scheduling.appointment.cancelled',
        payloadSchema: AppointmentCancelledSchema,
        payload: {
          ...ids,
          reason: CancellationReasonProto[appointment.cancellationReason ?? 'OTHER'],
          startsAt: timestampOf(appointment.startsAt),
          endsAt: timestampOf(appointment.endsAt),
        },
      });
      await audit(em, origin, tenantId, appointment, 'appointment.cancel', Operation.UPDATE, [
        'status',
        'cancellationReason',
        ...(appointment.cancellationNote ? ['cancellationNote'] : []),
      ]);
      return;
    case 'CHECKED_IN':
      await publisher.publishEvent(em, origin, {
        ...base,
        type: 'scheduling.appointment.checked_in',
        payloadSchema: AppointmentCheckedInSchema,
        payload: { ...ids, checkedInAt: timestampOf(appointment.checkedInAt ?? appointment.updatedAt) },
      });
      await audit(em, origin, tenantId, appointment, 'appointment.check_in', Operation.UPDATE, ['status']);
      return;
    case 'IN_PROGRESS':
      await publisher.publishEvent(em, origin, {
        ...base,
        type: 'scheduling.appointment.started',
        payloadSchema: AppointmentStartedSchema,
        payload: { ...ids, startedAt: timestampOf(appointment.startedAt!) },
      });
      await audit(em, origin, tenantId, appointment, 'appointment.start', Operation.UPDATE, ['status']);
      return;
    case 'COMPLETED':
      await publisher.publishEvent(em, origin, {
        ...base,
        type: 'scheduling.appointment.completed',
        payloadSchema: AppointmentCompletedSchema,
        payload: {
          ...ids,
          department: appointment.department,
          location: appointment.location ?? '',
          startsAt: timestampOf(appointment.startsAt),
          endsAt: timestampOf(appointment.endsAt),
          startedAt: timestampOf(appointment.startedAt ?? appointment.startsAt),
          completedAt: timestampOf(appointment.completedAt!),
          kind: kindOf(appointment),
          sourceId: appointment.sourceId ?? '',
        },
      });
      await audit(em, origin, tenantId, appointment, 'appointment.complete', Operation.UPDATE, ['status']);
      return;
    case 'NO_SHOW':
      await publisher.publishEvent(em, origin, {
        ...base,
        type: 'scheduling.appointment.no_show',
        payloadSchema: AppointmentNoShowSchema,
        payload: { ...ids, startsAt: timestampOf(appointment.startsAt) },
      });
      await audit(em, origin, tenantId, appointment, 'appointment.no_show', Operation.UPDATE, ['status']);
      return;
    case 'BOOKED':
      throw new Error('A status change to BOOKED is a reschedule; use appointmentRescheduled.');
  }
}

/**
 * Writes one READ audit record per appointment this request has not read yet, with one insert, when
 * the tenant audits reads. An appointment records which patient visits which practitioner and when,
 * so it is patient data. Call it in the transaction that read the appointments.
 */
export async function auditAppointmentReads(
  em: EntityManager,
  context: SubgraphContext,
  tenantId: string,
  readAuditEnabled: boolean,
  appointments: readonly AppointmentRecord[],
): Promise<void> {
  if (!readAuditEnabled) return;
  const audited = memoize(context, 'auditedAppointmentReads', () => new Set<string>());
  const unread = appointments.filter((appointment) => !audited.has(appointment.id));
  if (unread.length === 0) return;
  for (const appointment of unread) audited.add(appointment.id);
  await publisher.recordAudits(
    em,
    context,
    unread.map((appointment) => ({
      tenantId,
      action: 'appointment.read',
      operation: Operation.READ,
      entity: { type: APPOINTMENT, id: appointment.id },
      patientId: appointment.patientId,
      outcome: Outcome.SUCCESS,
    })),
  );
}
