import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  AdmissionChangedSchema,
  AUDIT_TOPIC,
  AuditRecordSchema,
  BedStatusChangedSchema,
  CLINICAL_EVENTS_TOPIC,
  decodeEnvelope,
  EncounterChangedSchema,
  NoteChangedSchema,
  Operation,
  timestampDate,
  unpackPayloadAs,
} from '@hms/proto-schemas';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  admit,
  createWard,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  type TestTenant,
} from './support.js';

interface OutboxRow {
  type: string;
  topic: string;
  payload: Buffer;
}

describe('encounter events and audit records', () => {
  let harness: ClinicalHarness;
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

  /** Returns the tenant's outbox rows after the first `skip`, in write order, with decoded envelopes. */
  const outboxOf = async (tenant: TestTenant, skip = 0) => {
    const { rows } = await admin.query<OutboxRow>(
      'select type, topic, payload from clinical.outbox where tenant_id = $1 order by id',
      [tenant.tenantId],
    );
    return rows.slice(skip).map((row) => ({ ...row, envelope: decodeEnvelope(row.payload) }));
  };
  const countOf = async (tenant: TestTenant) => (await outboxOf(tenant)).length;
  const domainTypes = (rows: Awaited<ReturnType<typeof outboxOf>>) =>
    rows.filter((row) => row.topic === CLINICAL_EVENTS_TOPIC).map((row) => row.type);
  const audits = (rows: Awaited<ReturnType<typeof outboxOf>>) =>
    rows
      .filter((row) => row.topic === AUDIT_TOPIC)
      .map((row) => unpackPayloadAs(row.envelope, AuditRecordSchema)!);

  test('open encounter: event, audits, no text', async () => {
    const tenant = await newTenant(harness);
    const patientId = await registerPatient(harness, tenant);
    const before = await countOf(tenant);

    const data = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      {
        input: { patientId, chiefComplaint: 'Crushing chest pain', diagnoses: [{ text: 'Angina pectoris' }] },
      },
      tenant.tokens.doctor,
    );

    const rows = await outboxOf(tenant, before);
    assert.deepEqual(domainTypes(rows), ['clinical.encounter.opened', 'clinical.diagnosis.added']);
    const opened = unpackPayloadAs(rows[0]!.envelope, EncounterChangedSchema);
    assert.equal(opened?.encounterId, data.openEncounter.id);
    assert.equal(opened?.patientId, patientId);
    assert.equal(opened?.status, 'OPEN');
    const records = audits(rows);
    assert.deepEqual(
      records.map((record) => [record.action, record.operation]),
      [
        ['encounter.create', Operation.CREATE],
        ['diagnosis.create', Operation.CREATE],
        // The mutation's selection reads the patient, and that read is audited like any other.
        ['patient.read', Operation.READ],
      ],
    );
    assert.ok(records.every((record) => record.patientId === patientId));
    for (const row of rows) {
      const bytes = row.payload.toString('latin1');
      assert.ok(!bytes.includes('Crushing'), 'no chief complaint in the outbox');
      assert.ok(!bytes.includes('Angina'), 'no diagnosis text in the outbox');
    }
  });

  test('status changes: typed events', async () => {
    const tenant = await newTenant(harness);
    const patientId = await registerPatient(harness, tenant);
    const data = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    const before = await countOf(tenant);

    await ok(
      harness,
      'mutation ($id: ID!) { startEncounter(id: $id) { id } }',
      { id: data.openEncounter.id },
      tenant.tokens.doctor,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { closeEncounter(id: $id) { id } }',
      { id: data.openEncounter.id },
      tenant.tokens.doctor,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { markEncounterEnteredInError(id: $id, reason: "Wrong chart") { id } }',
      { id: data.openEncounter.id },
      tenant.tokens.doctor,
    );

    const rows = await outboxOf(tenant, before);
    assert.deepEqual(domainTypes(rows), [
      'clinical.encounter.started',
      'clinical.encounter.closed',
      'clinical.encounter.entered_in_error',
    ]);
    const last = unpackPayloadAs(
      rows.filter((row) => row.topic === CLINICAL_EVENTS_TOPIC)[2]!.envelope,
      EncounterChangedSchema,
    );
    assert.equal(last?.previousStatus, 'CLOSED');
    assert.equal(last?.status, 'ENTERED_IN_ERROR');
    assert.ok(!rows.some((row) => row.payload.toString('latin1').includes('Wrong chart')), 'no reason text');
  });

  test('stay: admission, bed and discharge events', async () => {
    const tenant = await newTenant(harness);
    const ward = await createWard(harness, tenant, ['1', '2']);
    const patientId = await registerPatient(harness, tenant);
    const before = await countOf(tenant);

    const encounterId = await admit(harness, tenant, patientId, ward.beds['1']!);
    await ok(
      harness,
      'mutation ($id: ID!, $bed: ID!) { transferPatient(encounterId: $id, bedId: $bed) { id } }',
      { id: encounterId, bed: ward.beds['2'] },
      tenant.tokens.nurse,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { orderDischarge(encounterId: $id) { id } }',
      { id: encounterId },
      tenant.tokens.doctor,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { recordDeparture(encounterId: $id) { id } }',
      { id: encounterId },
      tenant.tokens.nurse,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { markBedCleaned(id: $id) { id } }',
      { id: ward.beds['2'] },
      tenant.tokens.nurse,
    );

    const rows = await outboxOf(tenant, before);
    assert.deepEqual(domainTypes(rows), [
      'clinical.bed.status_changed',
      'clinical.encounter.opened',
      'clinical.admission.admitted',
      'clinical.bed.status_changed',
      'clinical.bed.status_changed',
      'clinical.admission.transferred',
      'clinical.admission.discharge_ordered',
      'clinical.bed.status_changed',
      'clinical.admission.discharged',
      'clinical.encounter.closed',
      'clinical.bed.status_changed',
    ]);
    const events = rows.filter((row) => row.topic === CLINICAL_EVENTS_TOPIC);
    const transferred = unpackPayloadAs(events[5]!.envelope, AdmissionChangedSchema);
    assert.equal(transferred?.previousBedId, ward.beds['1']);
    assert.equal(transferred?.bedId, ward.beds['2']);
    const discharged = unpackPayloadAs(events[8]!.envelope, AdmissionChangedSchema);
    assert.equal(discharged?.encounterId, encounterId);
    assert.ok(discharged?.dischargedAt);
    assert.ok(timestampDate(discharged!.dischargedAt!) > timestampDate(discharged!.admittedAt!));
    const bedStatuses = events
      .filter((row) => row.type === 'clinical.bed.status_changed')
      .map((row) => unpackPayloadAs(row.envelope, BedStatusChangedSchema))
      .map((payload) => `${payload?.previousStatus}>${payload?.status}`);
    assert.deepEqual(bedStatuses, [
      'FREE>OCCUPIED',
      'FREE>OCCUPIED',
      'OCCUPIED>CLEANING',
      'OCCUPIED>CLEANING',
      'CLEANING>FREE',
    ]);
    // One audit record per domain event.
    assert.equal(audits(rows).length, events.length);
  });

  test('notes: signed and amended events', async () => {
    const tenant = await newTenant(harness);
    const patientId = await registerPatient(harness, tenant);
    const opened = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    const before = await countOf(tenant);

    const note = await ok<{ createNote: { id: string } }>(
      harness,
      'mutation ($id: ID!) { createNote(input: { encounterId: $id, kind: NURSING, content: { text: "Secret vitals" } }) { id } }',
      { id: opened.openEncounter.id },
      tenant.tokens.nurse,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { signNote(id: $id) { id } }',
      { id: note.createNote.id },
      tenant.tokens.nurse,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { amendNote(id: $id, content: { text: "Corrected" }, reason: "Typo") { id } }',
      { id: note.createNote.id },
      tenant.tokens.nurse,
    );

    const rows = await outboxOf(tenant, before);
    assert.deepEqual(domainTypes(rows), [
      'clinical.note.created',
      'clinical.note.signed',
      'clinical.note.amended',
    ]);
    const amended = unpackPayloadAs(
      rows.filter((row) => row.topic === CLINICAL_EVENTS_TOPIC)[2]!.envelope,
      NoteChangedSchema,
    );
    assert.equal(amended?.version, 2);
    assert.equal(amended?.kind, 'NURSING');
    assert.ok(!rows.some((row) => row.payload.toString('latin1').includes('Secret vitals')));
  });

  test('reads of encounters and notes audited once', async () => {
    const tenant = await newTenant(harness);
    const patientId = await registerPatient(harness, tenant);
    const opened = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    const note = await ok<{ createNote: { id: string } }>(
      harness,
      'mutation ($id: ID!) { createNote(input: { encounterId: $id, kind: PROGRESS, content: { text: "x" } }) { id } }',
      { id: opened.openEncounter.id },
      tenant.tokens.doctor,
    );
    const before = await countOf(tenant);

    await ok(
      harness,
      `query ($e: ID!, $n: ID!, $p: ID!) {
        encounter(id: $e) { id notes { id } }
        again: encounter(id: $e) { id }
        note(id: $n) { id }
        patient(id: $p) { openEncounters { id } encounters { totalCount edges { node { id } } } }
      }`,
      { e: opened.openEncounter.id, n: note.createNote.id, p: patientId },
      tenant.tokens.doctor,
    );

    const records = audits(await outboxOf(tenant, before));
    assert.ok(records.every((record) => record.operation === Operation.READ));
    assert.deepEqual(records.map((record) => `${record.action}:${record.entityId}`).sort(), [
      `encounter.read:${opened.openEncounter.id}`,
      `note.read:${note.createNote.id}`,
      `patient.read:${patientId}`,
    ]);
  });

  test('unchanged update: audit without event', async () => {
    const tenant = await newTenant(harness);
    const patientId = await registerPatient(harness, tenant);
    const opened = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId, chiefComplaint: 'Fever' } },
      tenant.tokens.doctor,
    );
    const before = await countOf(tenant);

    await ok(
      harness,
      'mutation ($id: ID!) { updateEncounter(id: $id, input: { chiefComplaint: "Fever" }) { id } }',
      { id: opened.openEncounter.id },
      tenant.tokens.doctor,
    );

    const rows = await outboxOf(tenant, before);
    assert.deepEqual(domainTypes(rows), []);
    assert.deepEqual(
      audits(rows).map((record) => [record.action, record.changedFields.length]),
      [['encounter.update', 0]],
    );
  });

  test('ward changes audited', async () => {
    const tenant = await newTenant(harness);
    const before = await countOf(tenant);

    const ward = await createWard(harness, tenant, ['1']);
    await ok(
      harness,
      'mutation ($id: ID!) { addBeds(wardId: $id, codes: ["2"]) { id } }',
      { id: ward.id },
      tenant.tokens.tenant_admin,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { updateWard(id: $id, input: { name: "Renamed" }) { id } }',
      { id: ward.id },
      tenant.tokens.tenant_admin,
    );

    const rows = await outboxOf(tenant, before);
    assert.deepEqual(domainTypes(rows), [
      'clinical.ward.created',
      'clinical.ward.beds_added',
      'clinical.ward.updated',
    ]);
    assert.deepEqual(
      audits(rows).map((record) => record.action),
      ['ward.create', 'ward.add_beds', 'ward.update'],
    );
    assert.deepEqual(audits(rows)[2]!.changedFields, ['name']);
  });
});
