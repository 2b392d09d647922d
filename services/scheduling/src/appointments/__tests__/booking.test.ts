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
} from '../../testing/fixtures.js';

interface Booked {
  bookAppointment: { id: string; status: string; startsAt: string; endsAt: string; localStart: string };
}

describe('booking', () => {
  let harness: SchedulingHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  test('books a free slot', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness, 'Asia/Kolkata');

    const { body } = await harness.graphql<Booked>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:00:00+05:30` } },
      token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(body.data!.bookAppointment.status, 'BOOKED');
    assert.equal(body.data!.bookAppointment.startsAt, `${MONDAY}T03:30:00.000Z`);
    assert.equal(body.data!.bookAppointment.endsAt, `${MONDAY}T04:00:00.000Z`);
    assert.equal(body.data!.bookAppointment.localStart, `${MONDAY}T09:00:00+05:30`);
  });

  test('parallel bookings of one slot: one winner', async () => {
    const { tenantId, token, practitionerId } = await bookableTenant(harness);
    const patients = await Promise.all(Array.from({ length: 20 }, () => harness.addPatient(tenantId)));

    const results = await Promise.all(
      patients.map((patientId) =>
        harness.graphql<Booked>(
          BOOK,
          { input: { practitionerId, patientId, startsAt: `${MONDAY}T10:00:00Z` } },
          token,
        ),
      ),
    );

    const won = results.filter((result) => !result.body.errors);
    const conflicts = results.filter((result) => errorCode(result.body) === 'CONFLICT');
    assert.equal(won.length, 1);
    assert.equal(conflicts.length, 19);
    const { inTenantTransaction } = await import('@hms/service-kit');
    const stored = await inTenantTransaction(harness.orm, tenantId, (em) =>
      em.execute<{ count: string }[]>(
        'select count(*)::text as count from scheduling.appointments where practitioner_id = ?',
        [practitionerId],
      ),
    );
    assert.equal(stored[0]!.count, '1');
  });

  test('parallel bookings of one patient: no deadlock', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const secondPractitioner = await harness.addPractitioner(tenantId);
    const { SET_SCHEDULE, weekdaySchedule } = await import('../../testing/fixtures.js');
    const schedule = await harness.graphql(
      SET_SCHEDULE,
      { input: weekdaySchedule(secondPractitioner) },
      token,
    );
    assert.equal(schedule.body.errors, undefined);

    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        harness.graphql<Booked>(
          BOOK,
          {
            input: {
              practitionerId: index % 2 === 0 ? practitionerId : secondPractitioner,
              patientId,
              startsAt: `${MONDAY}T11:00:00Z`,
            },
          },
          token,
        ),
      ),
    );

    const codes = results.map((result) => errorCode(result.body) ?? 'OK');
    assert.equal(codes.filter((code) => code === 'OK').length, 1, codes.join());
    assert.equal(codes.filter((code) => code === 'CONFLICT').length, 29, codes.join());
  });

  test('overlap on whole intervals', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const other = await harness.addPatient(tenantId);
    const first = await harness.graphql<Booked>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:00:00Z` } },
      token,
    );
    assert.equal(first.body.errors, undefined);

    const second = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId: other, startsAt: `${MONDAY}T09:15:00Z`, durationMinutes: 15 } },
      token,
    );

    assert.equal(errorCode(second.body), 'CONFLICT');
    assert.equal(second.body.errors?.[0]?.extensions?.reason, 'SLOT_TAKEN');
  });

  test('patient overlap needs the flag', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const secondPractitioner = await harness.addPractitioner(tenantId);
    const { SET_SCHEDULE, weekdaySchedule } = await import('../../testing/fixtures.js');
    await harness.graphql(SET_SCHEDULE, { input: weekdaySchedule(secondPractitioner) }, token);
    await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T14:00:00Z` } },
      token,
    );

    const refused = await harness.graphql(
      BOOK,
      { input: { practitionerId: secondPractitioner, patientId, startsAt: `${MONDAY}T14:00:00Z` } },
      token,
    );
    const allowed = await harness.graphql<Booked>(
      BOOK,
      {
        input: {
          practitionerId: secondPractitioner,
          patientId,
          startsAt: `${MONDAY}T14:00:00Z`,
          allowPatientOverlap: true,
        },
      },
      token,
    );

    assert.equal(errorCode(refused.body), 'CONFLICT');
    assert.equal(refused.body.errors?.[0]?.extensions?.reason, 'PATIENT_BUSY');
    assert.equal(allowed.body.errors, undefined);
  });

  test('patient overlap guarded by the database', async () => {
    const { tenantId, practitionerId, patientId } = await bookableTenant(harness);
    const secondPractitioner = await harness.addPractitioner(tenantId);
    const { inTenantTransaction, newId } = await import('@hms/service-kit');
    const insert = (practitioner: string) =>
      inTenantTransaction(harness.orm, tenantId, (em) =>
        em.execute(
          `insert into scheduling.appointments (tenant_id, id, practitioner_id, patient_id, department, during, status, kind, created_at, updated_at)
           values (?, ?, ?, ?, 'general', tstzrange('2027-06-07T15:00Z', '2027-06-07T15:30Z'), 'BOOKED', 'SCHEDULED', now(), now())`,
          [tenantId, newId(), practitioner, patientId],
        ),
      );
    await insert(practitionerId);

    await assert.rejects(insert(secondPractitioner), /appointments_patient_overlap/);
  });

  test('cancelled appointment frees the slot', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const booked = await harness.graphql<Booked>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T11:00:00Z` } },
      token,
    );
    await harness.graphql(
      'mutation C($id: ID!) { cancelAppointment(id: $id, reason: PATIENT_REQUEST) { id } }',
      { id: booked.body.data!.bookAppointment.id },
      token,
    );

    const again = await harness.graphql<Booked>(
      BOOK,
      {
        input: {
          practitionerId,
          patientId: await harness.addPatient(tenantId),
          startsAt: `${MONDAY}T11:00:00Z`,
        },
      },
      token,
    );

    assert.equal(again.body.errors, undefined);
  });

  test('rejections name the field', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const otherTenant = await bookableTenant(harness);
    const inactive = await harness.addPractitioner(tenantId);
    await harness.deactivatePractitioner(tenantId, inactive);
    const cases: { name: string; input: Record<string, unknown>; field: string }[] = [
      {
        name: 'before hours',
        input: { practitionerId, patientId, startsAt: `${MONDAY}T08:30:00Z` },
        field: 'input.startsAt',
      },
      {
        name: 'past end of day',
        input: { practitionerId, patientId, startsAt: `${MONDAY}T16:45:00Z` },
        field: 'input.durationMinutes',
      },
      {
        name: 'in the break',
        input: { practitionerId, patientId, startsAt: `${MONDAY}T12:00:00Z` },
        field: 'input.startsAt',
      },
      {
        name: 'on Sunday',
        input: { practitionerId, patientId, startsAt: '2027-06-06T10:00:00Z' },
        field: 'input.startsAt',
      },
      {
        name: 'in the past',
        input: { practitionerId, patientId, startsAt: '2020-06-01T10:00:00Z' },
        field: 'input.startsAt',
      },
      {
        name: 'inactive practitioner',
        input: { practitionerId: inactive, patientId, startsAt: `${MONDAY}T10:00:00Z` },
        field: 'input.practitionerId',
      },
      {
        name: 'unknown practitioner',
        input: { practitionerId: otherTenant.practitionerId, patientId, startsAt: `${MONDAY}T10:00:00Z` },
        field: 'input.practitionerId',
      },
      {
        name: 'patient of another tenant',
        input: { practitionerId, patientId: otherTenant.patientId, startsAt: `${MONDAY}T10:00:00Z` },
        field: 'input.patientId',
      },
      {
        name: 'malformed patient id',
        input: { practitionerId, patientId: 'nope', startsAt: `${MONDAY}T10:00:00Z` },
        field: 'input.patientId',
      },
      {
        name: 'too long',
        input: { practitionerId, patientId, startsAt: `${MONDAY}T10:00:00Z`, durationMinutes: 600 },
        field: 'input.durationMinutes',
      },
    ];

    for (const entry of cases) {
      const { body } = await harness.graphql(BOOK, { input: entry.input }, token);
      assert.equal(errorCode(body), 'BAD_USER_INPUT', entry.name);
      assert.ok(invalidFields(body).includes(entry.field), `${entry.name}: ${JSON.stringify(body.errors)}`);
    }
  });

  test('far future booking rejected', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);

    const { body } = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: '2099-06-01T10:00:00Z' } },
      token,
    );

    assert.equal(errorCode(body), 'BAD_USER_INPUT');
    assert.deepEqual(body.errors?.[0]?.extensions?.fields, [
      { field: 'input.startsAt', message: 'must be at most 365 days ahead' },
    ]);
  });

  test('booking into a break names durationMinutes', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);

    const { body } = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T11:30:00Z`, durationMinutes: 60 } },
      token,
    );

    assert.equal(errorCode(body), 'BAD_USER_INPUT');
    assert.deepEqual(body.errors?.[0]?.extensions?.fields, [
      {
        field: 'input.durationMinutes',
        message:
          "runs past 12:00 (UTC), where the practitioner's working hours or a break begin; at most 30 minutes fit from this start",
      },
    ]);
  });

  test('off-grid start and length allowed', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);

    const { body } = await harness.graphql<Booked>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T10:10:00Z`, durationMinutes: 45 } },
      token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(body.data!.bookAppointment.endsAt, `${MONDAY}T10:55:00.000Z`);
  });

  test('free slots exclude booked time', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);
    await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:30:00Z` } },
      token,
    );

    const { body } = await harness.graphql<{ freeSlots: { startsAt: string }[] }>(
      FREE_SLOTS,
      { practitionerId, from: MONDAY, to: MONDAY },
      token,
    );

    const starts = body.data!.freeSlots.map((slot) => slot.startsAt.slice(11, 16));
    assert.equal(starts.length, 13);
    assert.deepEqual(starts.slice(0, 3), ['09:00', '10:00', '10:30']);
    assert.ok(!starts.includes('12:00'));
    assert.ok(!starts.includes('12:30'));
  });

  test('free slot range is bounded', async () => {
    const { token, practitionerId } = await bookableTenant(harness);

    const tooLong = await harness.graphql(
      FREE_SLOTS,
      { practitionerId, from: MONDAY, to: '2027-07-20' },
      token,
    );
    const department = await harness.graphql(
      FREE_SLOTS,
      { department: 'general', from: MONDAY, to: '2027-06-20' },
      token,
    );
    const both = await harness.graphql(
      FREE_SLOTS,
      { practitionerId, department: 'general', from: MONDAY, to: MONDAY },
      token,
    );
    const reversed = await harness.graphql(
      FREE_SLOTS,
      { practitionerId, from: MONDAY, to: '2027-06-01' },
      token,
    );

    assert.deepEqual(invalidFields(tooLong.body), ['to']);
    assert.deepEqual(invalidFields(department.body), ['to']);
    assert.deepEqual(invalidFields(both.body), ['practitionerId']);
    assert.deepEqual(invalidFields(reversed.body), ['to']);
  });
});
