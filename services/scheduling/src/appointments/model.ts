export const APPOINTMENT_STATUSES = [
  'BOOKED',
  'CHECKED_IN',
  'IN_PROGRESS',
  'COMPLETED',
  'CANCELLED',
  'NO_SHOW',
] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export type AppointmentKind = 'SCHEDULED' | 'WALK_IN' | 'IMPORTED';

export const CANCELLATION_REASONS = [
  'PATIENT_REQUEST',
  'PRACTITIONER_UNAVAILABLE',
  'CLINIC_CLOSED',
  'DUPLICATE',
  'OTHER',
] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

/** An appointment as stored. */
export interface AppointmentRecord {
  id: string;
  practitionerId: string;
  patientId: string;
  department: string;
  location: string | null;
  startsAt: Date;
  endsAt: Date;
  status: AppointmentStatus;
  kind: AppointmentKind;
  patientOverlapAllowed: boolean;
  cancellationReason: CancellationReason | null;
  cancellationNote: string | null;
  sourceId: string | null;
  checkedInAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  noShowAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Life-cycle actions after booking. */
export type TransitionAction = 'checkIn' | 'start' | 'complete' | 'cancel' | 'noShow' | 'reschedule';

/**
 * The statuses each action is allowed from, and the status it leads to. Everything else is
 * rejected: COMPLETED, CANCELLED and NO_SHOW are final.
 */
export const TRANSITIONS: Record<
  TransitionAction,
  { from: readonly AppointmentStatus[]; to: AppointmentStatus }
> = {
  checkIn: { from: ['BOOKED'], to: 'CHECKED_IN' },
  start: { from: ['CHECKED_IN'], to: 'IN_PROGRESS' },
  complete: { from: ['IN_PROGRESS'], to: 'COMPLETED' },
  cancel: { from: ['BOOKED', 'CHECKED_IN'], to: 'CANCELLED' },
  noShow: { from: ['BOOKED'], to: 'NO_SHOW' },
  reschedule: { from: ['BOOKED'], to: 'BOOKED' },
};

interface AppointmentRow {
  id: string;
  practitioner_id: string;
  patient_id: string;
  department: string;
  location: string | null;
  starts_at: Date;
  ends_at: Date;
  status: AppointmentStatus;
  kind: AppointmentKind;
  patient_overlap_allowed: boolean;
  cancellation_reason: CancellationReason | null;
  cancellation_note: string | null;
  source_id: string | null;
  checked_in_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  no_show_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The select list that appointmentOf reads. */
export const APPOINTMENT_COLUMNS = `id, practitioner_id, patient_id, department, location,
  lower(during) as starts_at, upper(during) as ends_at, status, kind, patient_overlap_allowed,
  cancellation_reason, cancellation_note, source_id, checked_in_at, started_at, completed_at,
  cancelled_at, no_show_at, created_at, updated_at`;

const dateOrNull = (value: Date | null) => (value ? new Date(value) : null);

export function appointmentOf(row: AppointmentRow): AppointmentRecord {
  return {
    id: row.id,
    practitionerId: row.practitioner_id,
    patientId: row.patient_id,
    department: row.department,
    location: row.location,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    status: row.status,
    kind: row.kind,
    patientOverlapAllowed: row.patient_overlap_allowed,
    cancellationReason: row.cancellation_reason,
    cancellationNote: row.cancellation_note,
    sourceId: row.source_id,
    checkedInAt: dateOrNull(row.checked_in_at),
    startedAt: dateOrNull(row.started_at),
    completedAt: dateOrNull(row.completed_at),
    cancelledAt: dateOrNull(row.cancelled_at),
    noShowAt: dateOrNull(row.no_show_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export type { AppointmentRow };
