import type { AppointmentRecord } from './appointments/model.js';
import type { Slot } from './schedules/availability.js';
import { WEEKDAYS, type DayWindow, type ScheduleRecord, type TimeOffRecord } from './schedules/model.js';
import { formatMinutes, localIso } from './time/zoned.js';

/** Returns a reference to an entity another subgraph owns, for the gateway to resolve. */
export function reference(typename: 'User' | 'Patient', id: string) {
  return { __typename: typename, id };
}

function windowView(window: DayWindow) {
  return {
    weekday: WEEKDAYS[window.weekday - 1],
    start: formatMinutes(window.start),
    end: formatMinutes(window.end),
  };
}

/** Returns a schedule as the Schedule type serves it. */
export function scheduleView(schedule: ScheduleRecord, zone: string) {
  return {
    ...schedule,
    practitioner: reference('User', schedule.practitionerId),
    timeZone: zone,
    weeklyHours: schedule.weeklyHours.map(windowView),
    breaks: schedule.breaks.map(windowView),
  };
}

/** Returns a free slot as the Slot type serves it. */
export function slotView(slot: Slot, zone: string) {
  return {
    practitioner: reference('User', slot.practitionerId),
    department: slot.department,
    location: slot.location,
    startsAt: slot.start,
    endsAt: slot.end,
    localStart: localIso(slot.start, zone),
  };
}

/** Returns an appointment as the Appointment type serves it. */
export function appointmentView(appointment: AppointmentRecord, zone: string) {
  return {
    ...appointment,
    practitioner: reference('User', appointment.practitionerId),
    patient: reference('Patient', appointment.patientId),
    localStart: localIso(appointment.startsAt, zone),
    timeZone: zone,
  };
}

export type AppointmentView = ReturnType<typeof appointmentView>;

/** Returns a holiday, leave or block as the TimeOff type serves it. */
export function timeOffView(timeOff: TimeOffRecord) {
  return {
    ...timeOff,
    practitioner: timeOff.practitionerId ? reference('User', timeOff.practitionerId) : null,
  };
}
