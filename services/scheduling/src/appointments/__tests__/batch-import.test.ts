import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuditRecordSchema, decodeEnvelope, TenantStatus, unpackPayloadAs } from '@hms/proto-schemas';
import { newId } from '@hms/service-kit';
import pg from 'pg';
import { startHarness, type SchedulingHarness } from '../../testing/harness.js';
import { bookableTenant, errorCode, invalidFields } from '../../testing/fixtures.js';

const IMPORT_BATCH = `mutation I($inputs: [ImportPastAppointmentInput!]!) {
  importPastAppointments(inputs: $inputs) {
    sourceId created
    appointment { id status kind }
    errors { code message field }
  }
}`;

interface ItemResult {
  sourceId: string;
  created: boolean;
  appointment: { id: string; status: string; kind: string } | null;
  errors: { code: string; message: string; field: string | null }[];
}

type BatchResponse = { importPastAppointments: ItemResult[] };

describe('importPastAppointments', () => {
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
      await admin.query<{ type: string; payload: Buffer }>(
        'select type, payload from scheduling.outbox where tenant_id = $1 order by id',
        [tenantId],
      )
    ).rows;

  const storedCount = async (tenantId: string) =>
    Number(
      (
        await admin.query<{ count: string }>(
          "select count(*) from scheduling.appointments where tenant_id = $1 and kind = 'IMPORTED'",
          [tenantId],
        )
      ).rows[0]!.count,
    );

  const visit = (practitionerId: string, patientId: string, day: number) => ({
    sourceId: `synthea:Encounter/${newId()}`,
    practitionerId,
    patientId,
    startsAt: `2019-04-${String(day).padStart(2, '0')}T10:00:00Z`,
    endsAt: `2019-04-${String(day).padStart(2, '0')}T10:20:00Z`,
  });

  test('mixed batch keeps valid items', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const first = visit(practitionerId, patientId, 1);
    const invalid = { ...visit(practitionerId, patientId, 2), endsAt: '2019-04-02T09:00:00Z' };
    const unknownPatient = visit(practitionerId, newId(), 3);
    const second = visit(practitionerId, patientId, 4);

    const { body } = await harness.graphql<BatchResponse>(
      IMPORT_BATCH,
      { inputs: [first, invalid, unknownPatient, first, second] },
      token,
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const results = body.data!.importPastAppointments;
    assert.deepEqual(
      results.map((result) => result.sourceId),
      [first.sourceId, invalid.sourceId, unknownPatient.sourceId, first.sourceId, second.sourceId],
    );
    assert.equal(results[0]!.created, true);
    assert.equal(results[0]!.appointment!.status, 'COMPLETED');
    assert.equal(results[0]!.appointment!.kind, 'IMPORTED');
    assert.equal(results[1]!.appointment, null);
    assert.deepEqual(results[1]!.errors, [
      { code: 'BAD_USER_INPUT', message: 'inputs.1.endsAt must be after startsAt', field: 'inputs.1.endsAt' },
    ]);
    assert.equal(results[2]!.appointment, null);
    assert.deepEqual(
      results[2]!.errors.map((error) => [error.code, error.field]),
      [['UNKNOWN_PARTICIPANT', 'inputs.2.patientId']],
    );
    assert.equal(results[3]!.created, false, 'a repeated sourceId returns the first import');
    assert.equal(results[3]!.appointment!.id, results[0]!.appointment!.id);
    assert.equal(results[4]!.created, true);
    assert.deepEqual(results[4]!.errors, []);
    assert.equal(await storedCount(tenantId), 2);
  });

  test('events and audit per stored item', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const before = (await outboxOf(tenantId)).length;
    const inputs = [
      visit(practitionerId, patientId, 5),
      visit(practitionerId, newId(), 6),
      visit(practitionerId, patientId, 7),
    ];

    const { body } = await harness.graphql<BatchResponse>(IMPORT_BATCH, { inputs }, token);

    const stored = body.data!.importPastAppointments.flatMap((result) =>
      result.appointment ? [result.appointment.id] : [],
    );
    assert.equal(stored.length, 2);
    const rows = (await outboxOf(tenantId)).slice(before);
    const audited = rows
      .filter((row) => row.type === 'audit.record')
      .map((row) => unpackPayloadAs(decodeEnvelope(row.payload), AuditRecordSchema)!);
    assert.deepEqual([...new Set(audited.map((audit) => audit.entityId))].sort(), [...stored].sort());
    assert.ok(audited.every((audit) => audit.patientId === patientId));
    assert.equal(
      rows.filter((row) => row.type === 'scheduling.appointment.booked').length,
      2,
      'one booked event per stored item, none for the rejected one',
    );
    assert.equal(rows.filter((row) => row.type === 'scheduling.appointment.completed').length, 2);
  });

  test('second call is idempotent', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const inputs = [visit(practitionerId, patientId, 8), visit(practitionerId, patientId, 9)];
    const first = await harness.graphql<BatchResponse>(IMPORT_BATCH, { inputs }, token);
    const outboxBefore = (await outboxOf(tenantId)).length;

    const second = await harness.graphql<BatchResponse>(IMPORT_BATCH, { inputs }, token);

    assert.deepEqual(
      second.body.data!.importPastAppointments.map((result) => result.created),
      [false, false],
    );
    assert.deepEqual(
      second.body.data!.importPastAppointments.map((result) => result.appointment!.id),
      first.body.data!.importPastAppointments.map((result) => result.appointment!.id),
    );
    assert.equal((await outboxOf(tenantId)).length, outboxBefore, 'a repeated import writes nothing');
    assert.equal(await storedCount(tenantId), 2);
  });

  test('cross-tenant ids are unknown', async () => {
    const own = await bookableTenant(harness);
    const other = await bookableTenant(harness);
    const inputs = [
      visit(own.practitionerId, other.patientId, 10),
      visit(other.practitionerId, own.patientId, 11),
      visit(own.practitionerId, own.patientId, 12),
    ];

    const { body } = await harness.graphql<BatchResponse>(IMPORT_BATCH, { inputs }, own.token);

    const results = body.data!.importPastAppointments;
    assert.deepEqual(
      results[0]!.errors.map((error) => [error.code, error.field]),
      [['UNKNOWN_PARTICIPANT', 'inputs.0.patientId']],
    );
    assert.deepEqual(
      results[1]!.errors.map((error) => [error.code, error.field]),
      [['UNKNOWN_PARTICIPANT', 'inputs.1.practitionerId']],
    );
    assert.equal(results[2]!.created, true);
    assert.equal(await storedCount(own.tenantId), 1);
    assert.equal(await storedCount(other.tenantId), 0, 'nothing is stored in the other tenant');
  });

  test('more than 100 items are rejected', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const inputs = Array.from({ length: 101 }, (_, index) =>
      visit(practitionerId, patientId, 1 + (index % 28)),
    );

    const { body } = await harness.graphql(IMPORT_BATCH, { inputs }, token);

    assert.deepEqual(invalidFields(body), ['inputs']);
    assert.equal(await storedCount(tenantId), 0);
  });

  test('needs schedule:manage', async () => {
    const { tenantId, practitionerId, patientId } = await bookableTenant(harness);
    const inputs = [visit(practitionerId, patientId, 13)];

    const frontDesk = await harness.graphql(
      IMPORT_BATCH,
      { inputs },
      await harness.token(tenantId, ['appointment:write', 'appointment:read']),
    );
    const manager = await harness.graphql<BatchResponse>(
      IMPORT_BATCH,
      { inputs },
      await harness.token(tenantId, ['schedule:manage', 'appointment:read']),
    );

    assert.equal(errorCode(frontDesk.body), 'FORBIDDEN');
    assert.equal(manager.body.errors, undefined, JSON.stringify(manager.body.errors));
    assert.equal(manager.body.data!.importPastAppointments[0]!.created, true);
  });

  test('suspended tenant stores nothing', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    await harness.setTenantStatus(tenantId, TenantStatus.SUSPENDED);

    const { body } = await harness.graphql(
      IMPORT_BATCH,
      { inputs: [visit(practitionerId, patientId, 14)] },
      token,
    );

    assert.equal(errorCode(body), 'TENANT_SUSPENDED');
    assert.equal(await storedCount(tenantId), 0);
  });
});
