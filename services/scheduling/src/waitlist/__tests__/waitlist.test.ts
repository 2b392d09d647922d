import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type SchedulingHarness } from '../../testing/harness.js';
import { bookableTenant, errorCode, invalidFields, MONDAY } from '../../testing/fixtures.js';

const ADD = `mutation A($input: AddToWaitlistInput!) { addToWaitlist(input: $input) { id position status } }`;
const LIST = `query L($p: ID!, $day: LocalDate!) {
  waitlist(practitionerId: $p, day: $day) { id position patient { id } offeredSlots { startsAt } }
}`;

interface Entry {
  id: string;
  position: number;
  patient: { id: string };
  offeredSlots: { startsAt: string }[];
}

describe('waitlist', () => {
  let harness: SchedulingHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  test('add, list in order, remove, book', async () => {
    const { tenantId, token, practitionerId } = await bookableTenant(harness);
    const patients = [
      await harness.addPatient(tenantId),
      await harness.addPatient(tenantId),
      await harness.addPatient(tenantId),
    ];
    const added: string[] = [];
    for (const patientId of patients) {
      const { body } = await harness.graphql<{ addToWaitlist: { id: string; position: number } }>(
        ADD,
        { input: { practitionerId, patientId, day: MONDAY } },
        token,
      );
      assert.equal(body.data!.addToWaitlist.position, added.length + 1);
      added.push(body.data!.addToWaitlist.id);
    }
    const duplicate = await harness.graphql(
      ADD,
      { input: { practitionerId, patientId: patients[0], day: MONDAY } },
      token,
    );
    assert.equal(errorCode(duplicate.body), 'CONFLICT');

    const listed = await harness.graphql<{ waitlist: Entry[] }>(
      LIST,
      { p: practitionerId, day: MONDAY },
      token,
    );
    assert.deepEqual(
      listed.body.data!.waitlist.map((entry) => entry.id),
      added,
    );
    assert.equal(listed.body.data!.waitlist[0]!.offeredSlots.length, 14);

    await harness.graphql(
      'mutation R($id: ID!) { removeFromWaitlist(id: $id) { status } }',
      { id: added[0] },
      token,
    );
    const offered = listed.body.data!.waitlist[1]!.offeredSlots[0]!.startsAt;
    const booked = await harness.graphql<{
      bookFromWaitlist: { id: string; patient: { id: string }; startsAt: string };
    }>(
      'mutation B($id: ID!, $at: DateTime!) { bookFromWaitlist(id: $id, startsAt: $at) { id startsAt patient { id } } }',
      { id: added[1], at: offered },
      token,
    );
    const otherDay = await harness.graphql(
      'mutation B($id: ID!) { bookFromWaitlist(id: $id, startsAt: "2027-06-08T09:00:00Z") { id } }',
      { id: added[2] },
      token,
    );

    assert.equal(booked.body.errors, undefined);
    assert.equal(booked.body.data!.bookFromWaitlist.patient.id, patients[1]);
    assert.equal(booked.body.data!.bookFromWaitlist.startsAt, offered);
    assert.deepEqual(invalidFields(otherDay.body), ['startsAt']);
    const remaining = await harness.graphql<{ waitlist: Entry[] }>(
      LIST,
      { p: practitionerId, day: MONDAY },
      token,
    );
    assert.deepEqual(
      remaining.body.data!.waitlist.map((entry) => [entry.id, entry.position]),
      [[added[2], 1]],
    );
    assert.equal(remaining.body.data!.waitlist[0]!.offeredSlots.length, 13);
  });

  test('past day is rejected', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);

    const { body } = await harness.graphql(
      ADD,
      { input: { practitionerId, patientId, day: '2020-01-01' } },
      token,
    );

    assert.deepEqual(invalidFields(body), ['input.day']);
  });

  test('day off is rejected', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);

    const { body } = await harness.graphql(
      ADD,
      { input: { practitionerId, patientId, day: '2027-06-13' } },
      token,
    );

    assert.equal(errorCode(body), 'BAD_USER_INPUT');
    assert.deepEqual(body.errors?.[0]?.extensions?.fields, [
      {
        field: 'input.day',
        message:
          'is a SUNDAY, when the practitioner does not work; choose a date on MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY',
      },
    ]);
  });
});
