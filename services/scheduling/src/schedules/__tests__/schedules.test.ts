import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type SchedulingHarness } from '../../testing/harness.js';
import {
  BOOK,
  bookableTenant,
  errorCode,
  FREE_SLOTS,
  invalidFields,
  MONDAY,
  SET_SCHEDULE,
  weekdaySchedule,
} from '../../testing/fixtures.js';

interface Slots {
  freeSlots: { startsAt: string; localStart: string; practitioner: { id: string } }[];
}

describe('schedules', () => {
  let harness: SchedulingHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  test('night shift across Berlin clock changes', async () => {
    const tenantId = await harness.createTenant('Europe/Berlin');
    const token = await harness.token(tenantId);
    const practitionerId = await harness.addPractitioner(tenantId);
    const set = await harness.graphql(
      SET_SCHEDULE,
      {
        input: {
          practitionerId,
          department: 'emergency',
          slotMinutes: 30,
          weeklyHours: [{ weekday: 'SUNDAY', start: '00:00', end: '06:00' }],
        },
      },
      token,
    );
    assert.equal(set.body.errors, undefined);

    const spring = await harness.graphql<Slots>(
      FREE_SLOTS,
      { practitionerId, from: '2027-03-28', to: '2027-03-28' },
      token,
    );
    const autumn = await harness.graphql<Slots>(
      FREE_SLOTS,
      { practitionerId, from: '2027-10-31', to: '2027-10-31' },
      token,
    );

    const springWalls = spring.body.data!.freeSlots.map((slot) => slot.localStart.slice(11));
    assert.equal(springWalls.length, 10);
    assert.ok(!springWalls.some((wall) => wall.startsWith('02:')));
    assert.equal(springWalls[3], '01:30:00+01:00');
    assert.equal(springWalls[4], '03:00:00+02:00');
    assert.equal(spring.body.data!.freeSlots[4]!.startsAt, '2027-03-28T01:00:00.000Z');

    const autumnWalls = autumn.body.data!.freeSlots.map((slot) => slot.localStart.slice(11));
    assert.equal(autumnWalls.length, 12);
    assert.equal(autumnWalls.filter((wall) => wall.startsWith('02:00')).length, 1);
    assert.equal(autumnWalls[4], '02:00:00+02:00');
    assert.equal(autumnWalls[6], '03:00:00+01:00');
  });

  test('daytime hours follow the offset', async () => {
    const tenantId = await harness.createTenant('America/New_York');
    const token = await harness.token(tenantId);
    const practitionerId = await harness.addPractitioner(tenantId);
    await harness.graphql(SET_SCHEDULE, { input: weekdaySchedule(practitionerId) }, token);

    const winter = await harness.graphql<Slots>(
      FREE_SLOTS,
      { practitionerId, from: '2027-03-12', to: '2027-03-12' },
      token,
    );
    const summer = await harness.graphql<Slots>(
      FREE_SLOTS,
      { practitionerId, from: '2027-03-15', to: '2027-03-15' },
      token,
    );

    assert.equal(winter.body.data!.freeSlots[0]!.startsAt, '2027-03-12T14:00:00.000Z');
    assert.equal(summer.body.data!.freeSlots[0]!.startsAt, '2027-03-15T13:00:00.000Z');
  });

  test('holiday, leave and block remove slots', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);
    const holiday = await harness.graphql(
      'mutation H($input: AddHolidayInput!) { addHoliday(input: $input) { id kind practitioner { id } } }',
      { input: { startDate: '2027-06-08', endDate: '2027-06-08', note: 'Founders day' } },
      token,
    );
    const leave = await harness.graphql(
      'mutation L($input: AddLeaveInput!) { addLeave(input: $input) { id kind } }',
      { input: { practitionerId, startDate: '2027-06-09', endDate: '2027-06-10' } },
      token,
    );
    const block = await harness.graphql<{ addScheduleBlock: { id: string } }>(
      'mutation B($input: AddScheduleBlockInput!) { addScheduleBlock(input: $input) { id kind startsAt } }',
      { input: { practitionerId, startsAt: `${MONDAY}T09:00:00Z`, endsAt: `${MONDAY}T10:00:00Z` } },
      token,
    );
    assert.equal(holiday.body.errors, undefined);
    assert.equal(leave.body.errors, undefined);
    assert.equal(block.body.errors, undefined);

    const slots = await harness.graphql<Slots>(
      FREE_SLOTS,
      { practitionerId, from: MONDAY, to: '2027-06-11' },
      token,
    );
    const days = new Set(slots.body.data!.freeSlots.map((slot) => slot.startsAt.slice(0, 10)));
    assert.deepEqual([...days], [MONDAY, '2027-06-11']);
    assert.equal(slots.body.data!.freeSlots[0]!.startsAt, `${MONDAY}T10:00:00.000Z`);

    const onHoliday = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: '2027-06-08T10:00:00Z' } },
      token,
    );
    const onLeave = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: '2027-06-09T10:00:00Z' } },
      token,
    );
    const inBlock = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:30:00Z` } },
      token,
    );
    assert.deepEqual(invalidFields(onHoliday.body), ['input.startsAt']);
    assert.deepEqual(invalidFields(onLeave.body), ['input.startsAt']);
    assert.deepEqual(invalidFields(inBlock.body), ['input.startsAt']);

    await harness.graphql(
      'mutation R($id: ID!) { removeTimeOff(id: $id) { id } }',
      { id: block.body.data!.addScheduleBlock.id },
      token,
    );
    const freed = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:30:00Z` } },
      token,
    );
    assert.equal(freed.body.errors, undefined);
  });

  test('department slots list every practitioner', async () => {
    const tenantId = await harness.createTenant();
    const token = await harness.token(tenantId);
    const first = await harness.addPractitioner(tenantId);
    const second = await harness.addPractitioner(tenantId);
    await harness.graphql(SET_SCHEDULE, { input: weekdaySchedule(first, 'cardiology') }, token);
    await harness.graphql(SET_SCHEDULE, { input: weekdaySchedule(second, 'cardiology') }, token);

    const { body } = await harness.graphql<Slots>(
      FREE_SLOTS,
      { department: 'cardiology', from: MONDAY, to: MONDAY },
      token,
    );

    assert.equal(body.data!.freeSlots.length, 28);
    assert.deepEqual(
      new Set(body.data!.freeSlots.map((slot) => slot.practitioner.id)),
      new Set([first, second]),
    );
  });

  test('deactivated practitioner offers no slots', async () => {
    const { tenantId, token, practitionerId } = await bookableTenant(harness);
    await harness.deactivatePractitioner(tenantId, practitionerId);

    const { body } = await harness.graphql<Slots>(
      FREE_SLOTS,
      { practitionerId, from: MONDAY, to: MONDAY },
      token,
    );

    assert.deepEqual(body.data!.freeSlots, []);
  });

  test('invalid schedules name the field', async () => {
    const tenantId = await harness.createTenant();
    const token = await harness.token(tenantId);
    const practitionerId = await harness.addPractitioner(tenantId);
    const cases = [
      { input: { ...weekdaySchedule(practitionerId), slotMinutes: 3 }, field: 'input.slotMinutes' },
      { input: { ...weekdaySchedule(practitionerId), department: ' ' }, field: 'input.department' },
      {
        input: {
          ...weekdaySchedule(practitionerId),
          weeklyHours: [{ weekday: 'MONDAY', start: '9am', end: '17:00' }],
        },
        field: 'input.weeklyHours[0].start',
      },
      {
        input: {
          ...weekdaySchedule(practitionerId),
          weeklyHours: [{ weekday: 'MONDAY', start: '17:00', end: '09:00' }],
        },
        field: 'input.weeklyHours[0].end',
      },
      {
        input: {
          ...weekdaySchedule(practitionerId),
          weeklyHours: [
            { weekday: 'MONDAY', start: '09:00', end: '13:00' },
            { weekday: 'MONDAY', start: '12:00', end: '17:00' },
          ],
        },
        field: 'input.weeklyHours',
      },
      { input: { ...weekdaySchedule(practitionerId), weeklyHours: [] }, field: 'input.weeklyHours' },
      {
        input: weekdaySchedule(await harness.addPractitioner(await harness.createTenant())),
        field: 'input.practitionerId',
      },
    ];

    for (const entry of cases) {
      const { body } = await harness.graphql(SET_SCHEDULE, { input: entry.input }, token);
      assert.equal(errorCode(body), 'BAD_USER_INPUT', entry.field);
      assert.ok(invalidFields(body).includes(entry.field), `${entry.field}: ${JSON.stringify(body.errors)}`);
    }
  });
});
