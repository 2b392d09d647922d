import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AppointmentCompletedSchema,
  AppointmentKind,
  AuditRecordSchema,
  decodeEnvelope,
  timestampDate,
  unpackPayloadAs,
} from '@hms/proto-schemas';
import { inTenantTransaction, newId } from '@hms/service-kit';
import pg from 'pg';
import { startHarness, type SchedulingHarness } from '../../testing/harness.js';
import {
  APPOINTMENT_FIELDS,
  BOOK,
  bookableTenant,
  errorCode,
  FREE_SLOTS,
  invalidFields,
  MONDAY,
} from '../../testing/fixtures.js';
import {
  APPOINTMENT_STATUSES,
  TRANSITIONS,
  type AppointmentStatus,
  type TransitionAction,
} from '../model.js';

const MUTATIONS: Record<TransitionAction, string> = {
  checkIn: `mutation M($id: ID!) { checkInAppointment(id: $id) { status } }`,
  start: `mutation M($id: ID!) { startAppointment(id: $id) { status } }`,
  complete: `mutation M($id: ID!) { completeAppointment(id: $id) { status } }`,
  cancel: `mutation M($id: ID!) { cancelAppointment(id: $id, reason: CLINIC_CLOSED, note: "Power cut") { status } }`,
  noShow: `mutation M($id: ID!) { markAppointmentNoShow(id: $id) { status } }`,
  reschedule: `mutation M($id: ID!) { rescheduleAppointment(id: $id, input: { startsAt: "${MONDAY}T15:00:00Z" }) { status startsAt } }`,
};

interface OutboxRow {
  type: string;
  payload: Buffer;
}

describe('appointment life cycle', () => {
  let harness: SchedulingHarness;
  let admin: pg.Client;

  before(async () => {
    harness = await startHarness();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await harness?.stop();
  });

  const outboxOf = async (tenantId: string) =>
    (
      await admin.query<OutboxRow>(
        'select type, payload from scheduling.outbox where tenant_id = $1 order by id',
        [tenantId],
      )
    ).rows;

  const firstStart = Date.now() - 3_600_000;
  let stored = 0;
  /**
   * Stores an appointment in `status` that started an hour or more ago, so every action can be
   * tried. Each call takes the next earlier half hour, so one practitioner's rows never overlap.
   */
  const storedIn = async (
    tenantId: string,
    practitionerId: string,
    patientId: string,
    status: AppointmentStatus,
  ) => {
    const id = newId();
    stored += 1;
    const start = new Date(firstStart - stored * 1_800_000);
    await inTenantTransaction(harness.orm, tenantId, (em) =>
      em.execute(
        `insert into scheduling.appointments
           (tenant_id, id, practitioner_id, patient_id, department, during, status, kind,
            checked_in_at, started_at, created_at, updated_at)
         values (?, ?, ?, ?, 'general', tstzrange(?, ?), ?, 'SCHEDULED', ?, ?, now(), now())`,
        [
          tenantId,
          id,
          practitionerId,
          patientId,
          start,
          new Date(start.getTime() + 1_800_000),
          status,
          status === 'BOOKED' ? null : start,
          ['IN_PROGRESS', 'COMPLETED'].includes(status) ? start : null,
        ],
      ),
    );
    return id;
  };

  test('every transition, allowed and rejected', async () => {
    const { tenantId, token, practitionerId } = await bookableTenant(harness);

    for (const action of Object.keys(TRANSITIONS) as TransitionAction[]) {
      for (const status of APPOINTMENT_STATUSES) {
        const patientId = await harness.addPatient(tenantId);
        const id = await storedIn(tenantId, practitionerId, patientId, status);
        const { body } = await harness.graphql<Record<string, { status: string }>>(
          MUTATIONS[action],
          { id },
          token,
        );
        const allowed = TRANSITIONS[action].from.includes(status);
        const label = `${action} from ${status}`;

        if (allowed) {
          assert.equal(body.errors, undefined, `${label}: ${JSON.stringify(body.errors)}`);
          assert.equal(Object.values(body.data!)[0]!.status, TRANSITIONS[action].to, label);
        } else {
          assert.equal(errorCode(body), 'CONFLICT', label);
          assert.deepEqual(body.errors?.[0]?.extensions?.allowedFrom, [...TRANSITIONS[action].from], label);
          const stored = await harness.graphql<{ appointment: { status: string } }>(
            'query G($id: ID!) { appointment(id: $id) { status } }',
            { id },
            token,
          );
          assert.equal(stored.body.data!.appointment.status, status, `${label} leaves the status`);
        }
      }
    }
  });

  test('early check-in rejected, completed keeps slot', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const slot = { practitionerId, startsAt: `${MONDAY}T09:00:00Z` };
    const booked = await harness.graphql<{ bookAppointment: { id: string } }>(
      BOOK,
      { input: { ...slot, patientId } },
      token,
    );
    const id = booked.body.data!.bookAppointment.id;

    const early = await harness.graphql(MUTATIONS.checkIn, { id }, token);
    assert.equal(errorCode(early.body), 'CONFLICT');
    assert.equal(early.body.errors?.[0]?.extensions?.reason, 'TOO_EARLY');

    // Completed as the transition does, with its completion time.
    await admin.query(
      "update scheduling.appointments set status = 'COMPLETED', completed_at = now() where id = $1",
      [id],
    );
    const other = await harness.addPatient(tenantId);
    const again = await harness.graphql(BOOK, { input: { ...slot, patientId: other } }, token);
    assert.equal(errorCode(again.body), 'CONFLICT');
    assert.equal(again.body.errors?.[0]?.extensions?.reason, 'SLOT_TAKEN');
    const slots = await harness.graphql<{ freeSlots: { startsAt: string }[] }>(
      FREE_SLOTS,
      { practitionerId, from: MONDAY, to: MONDAY },
      token,
    );
    assert.deepEqual(
      slots.body.data!.freeSlots.slice(0, 1).map((free) => free.startsAt),
      [`${MONDAY}T09:30:00.000Z`],
    );
  });

  test('no-show before the start is rejected', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);
    const booked = await harness.graphql<{ bookAppointment: { id: string } }>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:00:00Z` } },
      token,
    );

    const { body } = await harness.graphql(
      MUTATIONS.noShow,
      { id: booked.body.data!.bookAppointment.id },
      token,
    );

    assert.equal(errorCode(body), 'CONFLICT');
  });

  test('each change is an event and an audit record', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const before = (await outboxOf(tenantId)).length;
    const booked = await harness.graphql<{ bookAppointment: { id: string } }>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:00:00Z` } },
      token,
    );
    const id = booked.body.data!.bookAppointment.id;
    await storedInProgress(id);
    await harness.graphql(MUTATIONS.complete, { id }, token);

    const rows = (await outboxOf(tenantId)).slice(before);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['scheduling.appointment.booked', 'audit.record', 'scheduling.appointment.completed', 'audit.record'],
    );
    const completed = unpackPayloadAs(decodeEnvelope(rows[2]!.payload), AppointmentCompletedSchema)!;
    assert.equal(completed.appointmentId, id);
    assert.equal(completed.practitionerId, practitionerId);
    assert.equal(completed.patientId, patientId);
    assert.equal(completed.department, 'general');
    assert.equal(completed.location, 'room-1');
    assert.equal(completed.kind, AppointmentKind.SCHEDULED);
    assert.equal(timestampDate(completed.startsAt!).toISOString(), `${MONDAY}T09:00:00.000Z`);
    assert.equal(timestampDate(completed.endsAt!).toISOString(), `${MONDAY}T09:30:00.000Z`);
    const audit = unpackPayloadAs(decodeEnvelope(rows[3]!.payload), AuditRecordSchema)!;
    assert.equal(audit.action, 'appointment.complete');
    assert.equal(audit.patientId, patientId);
    assert.equal(audit.entityId, id);

    async function storedInProgress(appointmentId: string) {
      await inTenantTransaction(harness.orm, tenantId, (em) =>
        em.execute(
          "update scheduling.appointments set status = 'IN_PROGRESS', started_at = now() where id = ?",
          [appointmentId],
        ),
      );
    }
  });

  test('failed booking writes nothing', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:00:00Z` } },
      token,
    );
    const before = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(
      BOOK,
      {
        input: {
          practitionerId,
          patientId: await harness.addPatient(tenantId),
          startsAt: `${MONDAY}T09:00:00Z`,
        },
      },
      token,
    );

    assert.equal(errorCode(body), 'CONFLICT');
    assert.equal((await outboxOf(tenantId)).length, before);
  });

  test('reschedule moves the interval', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);
    const booked = await harness.graphql<{ bookAppointment: { id: string } }>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T09:00:00Z` } },
      token,
    );
    const id = booked.body.data!.bookAppointment.id;

    const outside = await harness.graphql(
      `mutation R($id: ID!) { rescheduleAppointment(id: $id, input: { startsAt: "${MONDAY}T20:00:00Z" }) { id } }`,
      { id },
      token,
    );
    const moved = await harness.graphql<{ rescheduleAppointment: { startsAt: string } }>(
      MUTATIONS.reschedule,
      { id },
      token,
    );
    const slots = await harness.graphql<{ freeSlots: { startsAt: string }[] }>(
      'query S($p: ID!) { freeSlots(practitionerId: $p, from: "2027-06-07", to: "2027-06-07") { startsAt } }',
      { p: practitionerId },
      token,
    );

    assert.deepEqual(invalidFields(outside.body), ['input.startsAt']);
    assert.equal(moved.body.data!.rescheduleAppointment.startsAt, `${MONDAY}T15:00:00.000Z`);
    const starts = slots.body.data!.freeSlots.map((slot) => slot.startsAt);
    assert.ok(starts.includes(`${MONDAY}T09:00:00.000Z`), 'the old slot is free again');
    assert.ok(!starts.includes(`${MONDAY}T15:00:00.000Z`));
  });

  test('walk-in is checked in at once', async () => {
    const { token, practitionerId, patientId } = await bookableTenant(harness);

    const walkIn = await harness.graphql<{ registerWalkIn: { id: string; status: string; kind: string } }>(
      `mutation W($input: RegisterWalkInInput!) { registerWalkIn(input: $input) { ${APPOINTMENT_FIELDS} } }`,
      { input: { practitionerId, patientId, durationMinutes: 15 } },
      token,
    );
    const id = walkIn.body.data!.registerWalkIn.id;
    const started = await harness.graphql<{ startAppointment: { status: string } }>(
      MUTATIONS.start,
      { id },
      token,
    );

    assert.equal(walkIn.body.data!.registerWalkIn.status, 'CHECKED_IN');
    assert.equal(walkIn.body.data!.registerWalkIn.kind, 'WALK_IN');
    assert.equal(started.body.data!.startAppointment.status, 'IN_PROGRESS');
  });

  test('import is idempotent and past only', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const IMPORT = `mutation I($input: ImportPastAppointmentInput!) { importPastAppointment(input: $input) { ${APPOINTMENT_FIELDS} } }`;
    const input = {
      sourceId: `synthea:Encounter/${newId()}`,
      practitionerId,
      patientId,
      startsAt: '2019-04-02T10:00:00Z',
      endsAt: '2019-04-02T10:20:00Z',
    };

    const first = await harness.graphql<{
      importPastAppointment: { id: string; status: string; kind: string };
    }>(IMPORT, { input }, token);
    const before = (await outboxOf(tenantId)).length;
    const second = await harness.graphql<{ importPastAppointment: { id: string } }>(IMPORT, { input }, token);
    const future = await harness.graphql(
      IMPORT,
      {
        input: {
          ...input,
          sourceId: `synthea:Encounter/${newId()}`,
          startsAt: `${MONDAY}T09:00:00Z`,
          endsAt: `${MONDAY}T09:30:00Z`,
        },
      },
      token,
    );
    const frontDesk = await harness.graphql(
      IMPORT,
      { input },
      await harness.token(tenantId, ['appointment:write']),
    );

    assert.equal(first.body.data!.importPastAppointment.status, 'COMPLETED');
    assert.equal(first.body.data!.importPastAppointment.kind, 'IMPORTED');
    assert.equal(second.body.data!.importPastAppointment.id, first.body.data!.importPastAppointment.id);
    assert.equal((await outboxOf(tenantId)).length, before, 'a repeated import writes nothing');
    assert.deepEqual(invalidFields(future.body), ['input.endsAt']);
    assert.equal(errorCode(frontDesk.body), 'FORBIDDEN');
  });

  test('import keeps deactivated practitioners history', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    await harness.deactivatePractitioner(tenantId, practitionerId);

    const { body } = await harness.graphql<{ importPastAppointment: { status: string } }>(
      `mutation I($input: ImportPastAppointmentInput!) { importPastAppointment(input: $input) { status } }`,
      {
        input: {
          sourceId: `synthea:Encounter/${newId()}`,
          practitionerId,
          patientId,
          startsAt: '2019-04-02T10:00:00Z',
          endsAt: '2019-04-02T10:20:00Z',
        },
      },
      token,
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.importPastAppointment.status, 'COMPLETED');
  });

  test('reads are audited once per request', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const booked = await harness.graphql<{ bookAppointment: { id: string } }>(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T10:00:00Z` } },
      token,
    );
    const id = booked.body.data!.bookAppointment.id;
    const before = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(
      `query R($id: ID!, $p: ID!) {
        appointment(id: $id) { id }
        practitionerDay(practitionerId: $p, date: "${MONDAY}") { appointments { id } }
      }`,
      { id, p: practitionerId },
      token,
    );

    assert.equal(body.errors, undefined);
    const rows = (await outboxOf(tenantId)).slice(before);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['audit.record'],
    );
    const audit = unpackPayloadAs(decodeEnvelope(rows[0]!.payload), AuditRecordSchema)!;
    assert.equal(audit.action, 'appointment.read');
    assert.equal(audit.entityId, id);
    assert.equal(audit.patientId, patientId);
  });
});
