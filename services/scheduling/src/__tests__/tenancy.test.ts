import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BUILT_IN_ROLES } from '../../../identity/src/roles/permissions.js';
import { startHarness, type SchedulingHarness } from '../testing/harness.js';
import {
  BOOK,
  bookableTenant,
  ENTITIES,
  errorCode,
  MONDAY,
  SET_SCHEDULE,
  weekdaySchedule,
} from '../testing/fixtures.js';

describe('tenant isolation and permissions', () => {
  let harness: SchedulingHarness;
  /** Tenant A with a booked appointment, time off and a waitlist entry; tenant B looks at them. */
  let a: Awaited<ReturnType<typeof bookableTenant>> & {
    appointmentId: string;
    timeOffId: string;
    entryId: string;
  };
  let tokenB: string;

  before(async () => {
    harness = await startHarness();
    const tenant = await bookableTenant(harness);
    const booked = await harness.graphql<{ bookAppointment: { id: string } }>(
      BOOK,
      {
        input: {
          practitionerId: tenant.practitionerId,
          patientId: tenant.patientId,
          startsAt: `${MONDAY}T09:00:00Z`,
        },
      },
      tenant.token,
    );
    const timeOff = await harness.graphql<{ addLeave: { id: string } }>(
      'mutation L($input: AddLeaveInput!) { addLeave(input: $input) { id } }',
      { input: { practitionerId: tenant.practitionerId, startDate: '2027-07-01', endDate: '2027-07-02' } },
      tenant.token,
    );
    const entry = await harness.graphql<{ addToWaitlist: { id: string } }>(
      'mutation W($input: AddToWaitlistInput!) { addToWaitlist(input: $input) { id } }',
      { input: { practitionerId: tenant.practitionerId, patientId: tenant.patientId, day: MONDAY } },
      tenant.token,
    );
    a = {
      ...tenant,
      appointmentId: booked.body.data!.bookAppointment.id,
      timeOffId: timeOff.body.data!.addLeave.id,
      entryId: entry.body.data!.addToWaitlist.id,
    };
    tokenB = await harness.token(await harness.createTenant());
  });

  after(async () => {
    await harness?.stop();
  });

  test('queries see nothing of another tenant', async () => {
    const appointment = await harness.graphql<{ appointment: unknown }>(
      'query G($id: ID!) { appointment(id: $id) { id } }',
      { id: a.appointmentId },
      tokenB,
    );
    const schedule = await harness.graphql<{ schedule: unknown }>(
      'query S($p: ID!) { schedule(practitionerId: $p) { id } }',
      { p: a.practitionerId },
      tokenB,
    );
    const slots = await harness.graphql<{ freeSlots: unknown[] }>(
      `query F($p: ID!) { freeSlots(practitionerId: $p, from: "${MONDAY}", to: "${MONDAY}") { startsAt } }`,
      { p: a.practitionerId },
      tokenB,
    );
    const day = await harness.graphql<{ practitionerDay: { appointments: unknown[] } }>(
      `query D($p: ID!) { practitionerDay(practitionerId: $p, date: "${MONDAY}") { appointments { id } } }`,
      { p: a.practitionerId },
      tokenB,
    );
    const waitlist = await harness.graphql<{ waitlist: unknown[] }>(
      `query W($p: ID!) { waitlist(practitionerId: $p, day: "${MONDAY}") { id } }`,
      { p: a.practitionerId },
      tokenB,
    );
    const timeOff = await harness.graphql<{ timeOff: unknown[] }>(
      'query T { timeOff(from: "2027-06-01", to: "2027-07-31") { id } }',
      {},
      tokenB,
    );
    const schedules = await harness.graphql<{ schedules: unknown[] }>(
      'query { schedules { id } }',
      {},
      tokenB,
    );

    assert.equal(appointment.body.data!.appointment, null);
    assert.equal(schedule.body.data!.schedule, null);
    assert.deepEqual(slots.body.data!.freeSlots, []);
    assert.deepEqual(day.body.data!.practitionerDay.appointments, []);
    assert.deepEqual(waitlist.body.data!.waitlist, []);
    assert.deepEqual(timeOff.body.data!.timeOff, []);
    assert.deepEqual(schedules.body.data!.schedules, []);
  });

  test('entities of another tenant resolve empty', async () => {
    const { body } = await harness.graphql<{
      _entities: ({ id: string; appointments?: { totalCount: number }; schedule?: unknown } | null)[];
    }>(
      ENTITIES,
      {
        representations: [
          { __typename: 'Appointment', id: a.appointmentId },
          { __typename: 'Patient', id: a.patientId },
          { __typename: 'User', id: a.practitionerId },
        ],
      },
      tokenB,
    );
    const own = await harness.graphql<{
      _entities: ({ id: string; appointments?: { totalCount: number } } | null)[];
    }>(
      ENTITIES,
      {
        representations: [
          { __typename: 'Appointment', id: a.appointmentId },
          { __typename: 'Patient', id: a.patientId },
        ],
      },
      a.token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(body.data!._entities[0], null);
    assert.equal(body.data!._entities[1]!.appointments!.totalCount, 0);
    assert.equal(body.data!._entities[2]!.schedule, null);
    assert.equal(body.data!._entities[2]!.appointments!.totalCount, 0);
    assert.equal(own.body.data!._entities[0]!.id, a.appointmentId);
    assert.equal(own.body.data!._entities[1]!.appointments!.totalCount, 1);
  });

  test('mutations on another tenant are not found', async () => {
    const cases = [
      ['cancel', `mutation { cancelAppointment(id: "${a.appointmentId}", reason: OTHER) { id } }`],
      ['check in', `mutation { checkInAppointment(id: "${a.appointmentId}") { id } }`],
      [
        'reschedule',
        `mutation { rescheduleAppointment(id: "${a.appointmentId}", input: { startsAt: "${MONDAY}T10:00:00Z" }) { id } }`,
      ],
      ['remove time off', `mutation { removeTimeOff(id: "${a.timeOffId}") { id } }`],
      ['remove from waitlist', `mutation { removeFromWaitlist(id: "${a.entryId}") { id } }`],
      [
        'book from waitlist',
        `mutation { bookFromWaitlist(id: "${a.entryId}", startsAt: "${MONDAY}T10:00:00Z") { id } }`,
      ],
    ];
    for (const [name, query] of cases) {
      const { body } = await harness.graphql(query!, {}, tokenB);
      assert.equal(errorCode(body), 'NOT_FOUND', name);
    }

    const booking = await harness.graphql(
      BOOK,
      {
        input: { practitionerId: a.practitionerId, patientId: a.patientId, startsAt: `${MONDAY}T10:00:00Z` },
      },
      tokenB,
    );
    const schedule = await harness.graphql(
      SET_SCHEDULE,
      { input: weekdaySchedule(a.practitionerId) },
      tokenB,
    );
    assert.equal(errorCode(booking.body), 'BAD_USER_INPUT');
    assert.equal(errorCode(schedule.body), 'BAD_USER_INPUT');
  });

  test('built-in roles get what their permissions allow', async () => {
    const operations: { name: string; permission: string; query: string }[] = [
      {
        name: 'freeSlots',
        permission: 'schedule:read',
        query: `{ freeSlots(department: "general", from: "${MONDAY}", to: "${MONDAY}") { startsAt } }`,
      },
      {
        name: 'schedule',
        permission: 'schedule:read',
        query: `{ schedule(practitionerId: "${a.practitionerId}") { id } }`,
      },
      {
        name: 'appointment',
        permission: 'appointment:read',
        query: `{ appointment(id: "${a.appointmentId}") { id } }`,
      },
      {
        name: 'practitionerDay',
        permission: 'appointment:read',
        query: `{ practitionerDay(practitionerId: "${a.practitionerId}", date: "${MONDAY}") { date } }`,
      },
      {
        name: 'waitlist',
        permission: 'appointment:read',
        query: `{ waitlist(practitionerId: "${a.practitionerId}", day: "${MONDAY}") { id } }`,
      },
      {
        name: 'setSchedule',
        permission: 'schedule:manage',
        query: `mutation { addHoliday(input: { startDate: "2027-12-25", endDate: "2027-12-25" }) { id } }`,
      },
      {
        name: 'bookAppointment',
        permission: 'appointment:write',
        query: `mutation { checkInAppointment(id: "00000000-0000-7000-8000-000000000000") { id } }`,
      },
    ];

    for (const [role, definition] of Object.entries(BUILT_IN_ROLES)) {
      const token = await harness.token(a.tenantId, [...definition.permissions]);
      for (const operation of operations) {
        const { body } = await harness.graphql(operation.query, {}, token);
        const allowed = (definition.permissions as readonly string[]).includes(operation.permission);
        const label = `${role} ${operation.name}`;
        if (allowed) assert.notEqual(errorCode(body), 'FORBIDDEN', label);
        else assert.equal(errorCode(body), 'FORBIDDEN', label);
      }
    }
  });

  test('without a token nothing is served', async () => {
    const { body } = await harness.graphql(`{ appointment(id: "${a.appointmentId}") { id } }`);

    assert.equal(errorCode(body), 'UNAUTHENTICATED');
  });
});
