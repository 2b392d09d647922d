import type { SchedulingHarness } from './harness.js';

/** A Monday far enough ahead that every test booking on it is in the future. */
export const MONDAY = '2027-06-07';

export const APPOINTMENT_FIELDS = `
  id status kind department location startsAt endsAt localStart timeZone patientOverlapAllowed
  cancellationReason cancellationNote sourceId checkedInAt startedAt completedAt cancelledAt noShowAt
  practitioner { id } patient { id }
`;

export const SET_SCHEDULE = `
  mutation Set($input: SetScheduleInput!) {
    setSchedule(input: $input) {
      id department location slotMinutes timeZone active practitioner { id }
      weeklyHours { weekday start end } breaks { weekday start end }
    }
  }
`;

export const BOOK = `
  mutation Book($input: BookAppointmentInput!) { bookAppointment(input: $input) { ${APPOINTMENT_FIELDS} } }
`;

export const FREE_SLOTS = `
  query Slots($practitionerId: ID, $department: String, $from: LocalDate!, $to: LocalDate!) {
    freeSlots(practitionerId: $practitionerId, department: $department, from: $from, to: $to) {
      startsAt endsAt localStart department practitioner { id }
    }
  }
`;

export const GET_APPOINTMENT = `query Get($id: ID!) { appointment(id: $id) { ${APPOINTMENT_FIELDS} } }`;

export const ENTITIES = `
  query Entities($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Appointment { id status }
      ... on Patient { id appointments { totalCount edges { node { id } } } }
      ... on User { id schedule { id } appointments { totalCount edges { node { id } } } }
    }
  }
`;

/** Returns a weekday schedule of 09:00 to 17:00 with a lunch break and 30-minute slots. */
export function weekdaySchedule(practitionerId: string, department = 'general') {
  return {
    practitionerId,
    department,
    location: 'room-1',
    slotMinutes: 30,
    weeklyHours: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'].map((weekday) => ({
      weekday,
      start: '09:00',
      end: '17:00',
    })),
    breaks: [{ start: '12:00', end: '13:00' }],
  };
}

/** Lists the `field` of each invalid input a BAD_USER_INPUT error reports. */
export function invalidFields(body: {
  errors?: readonly { extensions?: Record<string, unknown> }[];
}): string[] {
  const fields = body.errors?.[0]?.extensions?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.map((entry: { field: string }) => entry.field);
}

/** Returns the error code of the first error, if any. */
export function errorCode(body: { errors?: readonly { extensions?: Record<string, unknown> }[] }): unknown {
  return body.errors?.[0]?.extensions?.code;
}

/** Creates a tenant with a practitioner on the weekday schedule and a patient, ready for bookings. */
export async function bookableTenant(harness: SchedulingHarness, timeZone = 'UTC') {
  const tenantId = await harness.createTenant(timeZone);
  const token = await harness.token(tenantId);
  const practitionerId = await harness.addPractitioner(tenantId);
  const patientId = await harness.addPatient(tenantId);
  const { body } = await harness.graphql(SET_SCHEDULE, { input: weekdaySchedule(practitionerId) }, token);
  if (body.errors) throw new Error(`setSchedule failed: ${JSON.stringify(body.errors)}`);
  return { tenantId, token, practitionerId, patientId };
}
