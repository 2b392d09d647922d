import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  AllergyRecordedSchema,
  AllergyUpdatedSchema,
  AUDIT_TOPIC,
  AuditRecordSchema,
  CLINICAL_EVENTS_TOPIC,
  decodeEnvelope,
  Operation,
  PrescriptionIssuedSchema,
  PrescriptionStatusChangedSchema,
  ProblemAddedSchema,
  ProblemResolvedSchema,
  unpackPayloadAs,
  VitalSignsEnteredInErrorSchema,
  VitalSignsRecordedSchema,
} from '@hms/proto-schemas';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  createRecords,
  DOCTOR_PERMISSIONS,
  MARK_VITALS_ENTERED_IN_ERROR,
  RECORD_VITALS,
  registerPatient,
  UPDATE_ALLERGY_STATUS,
} from '../../testing/records.js';

interface OutboxRow {
  type: string;
  topic: string;
  message_key: string;
  payload: Buffer;
}

describe('patient record events and audit records', () => {
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

  /** Returns the tenant's outbox rows after the first `skip`, in write order. */
  const outboxOf = async (tenantId: string, skip = 0) => {
    const { rows } = await admin.query<OutboxRow>(
      'select type, topic, message_key, payload from clinical.outbox where tenant_id = $1 order by id',
      [tenantId],
    );
    return rows.slice(skip).map((row) => ({ ...row, envelope: decodeEnvelope(row.payload) }));
  };
  const auditOf = (row: { envelope: ReturnType<typeof decodeEnvelope> }) =>
    unpackPayloadAs(row.envelope, AuditRecordSchema);

  test('each create writes its event and CREATE record', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    const ids = await createRecords(harness, token);

    // The patient's registration comes first.
    const rows = (await outboxOf(tenantId, 2)).filter(
      (row) => row.type !== 'audit.record' || auditOf(row)?.operation !== Operation.READ,
    );
    assert.deepEqual(
      rows.map((row) => row.type),
      [
        'clinical.vitals.recorded',
        'audit.record',
        'clinical.allergy.recorded',
        'audit.record',
        'clinical.problem.added',
        'audit.record',
        'clinical.prescription.issued',
        'audit.record',
      ],
    );
    for (const row of rows) {
      assert.equal(row.topic, row.type === 'audit.record' ? AUDIT_TOPIC : CLINICAL_EVENTS_TOPIC);
      assert.equal(row.envelope.tenantId, tenantId);
    }

    const vitals = unpackPayloadAs(rows[0]!.envelope, VitalSignsRecordedSchema);
    assert.equal(vitals?.panelId, ids.panel);
    assert.equal(vitals?.patientId, ids.patient);
    assert.equal(vitals?.measurementIds.length, 2);
    assert.equal(rows[0]!.message_key, `${tenantId}:${ids.panel}`);
    const vitalsAudit = auditOf(rows[1]!);
    assert.equal(vitalsAudit?.operation, Operation.CREATE);
    assert.equal(vitalsAudit?.action, 'vitals.create');
    assert.equal(vitalsAudit?.patientId, ids.patient);
    assert.deepEqual(vitalsAudit?.changedFields, ['heartRate', 'bodyWeight']);

    assert.equal(unpackPayloadAs(rows[2]!.envelope, AllergyRecordedSchema)?.allergyId, ids.allergy);
    assert.equal(auditOf(rows[3]!)?.entityType, 'AllergyIntolerance');
    assert.equal(unpackPayloadAs(rows[4]!.envelope, ProblemAddedSchema)?.problemId, ids.problem);
    assert.equal(auditOf(rows[5]!)?.action, 'problem.create');
    const issued = unpackPayloadAs(rows[6]!.envelope, PrescriptionIssuedSchema);
    assert.equal(issued?.prescriptionId, ids.prescription);
    assert.ok(issued?.prescriberId);
    assert.equal(auditOf(rows[7]!)?.entityId, ids.prescription);

    // Ids and field names only: no value, code or name reaches the outbox.
    for (const row of rows) {
      const bytes = row.payload.toString('latin1');
      for (const value of ['Peanuts', 'Asthma', 'Amoxicillin', '308182', 'water']) {
        assert.ok(!bytes.includes(value), `${row.type} carries ${value}`);
      }
    }
  });

  test('status changes write their events', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    const ids = await createRecords(harness, token);
    const written = (await outboxOf(tenantId)).length;

    await harness.graphql(MARK_VITALS_ENTERED_IN_ERROR, { id: ids.panel, reason: 'Wrong patient' }, token);
    await harness.graphql(
      UPDATE_ALLERGY_STATUS,
      { id: ids.allergy, input: { verificationStatus: 'CONFIRMED', reason: 'Skin test' } },
      token,
    );
    await harness.graphql(
      'mutation ($id: ID!) { resolveProblem(id: $id) { id } }',
      { id: ids.problem },
      token,
    );
    await harness.graphql(
      'mutation ($id: ID!) { stopPrescription(id: $id, reason: "Rash") { id } }',
      { id: ids.prescription },
      token,
    );

    const rows = await outboxOf(tenantId, written);
    assert.deepEqual(
      rows.map((row) => row.type),
      [
        'clinical.vitals.entered_in_error',
        'audit.record',
        'clinical.allergy.updated',
        'audit.record',
        'clinical.problem.resolved',
        'audit.record',
        'clinical.prescription.stopped',
        'audit.record',
      ],
    );
    assert.equal(unpackPayloadAs(rows[0]!.envelope, VitalSignsEnteredInErrorSchema)?.panelId, ids.panel);
    assert.deepEqual(unpackPayloadAs(rows[2]!.envelope, AllergyUpdatedSchema)?.changedFields, [
      'verificationStatus',
      'statusReason',
    ]);
    assert.equal(unpackPayloadAs(rows[4]!.envelope, ProblemResolvedSchema)?.problemId, ids.problem);
    assert.equal(
      unpackPayloadAs(rows[6]!.envelope, PrescriptionStatusChangedSchema)?.prescriptionId,
      ids.prescription,
    );
    const audits = rows.filter((row) => row.type === 'audit.record').map(auditOf);
    assert.ok(audits.every((record) => record?.operation === Operation.UPDATE));
    assert.deepEqual(
      audits.map((record) => record?.action),
      ['vitals.entered_in_error', 'allergy.update', 'problem.resolve', 'prescription.stopped'],
    );
    for (const row of rows) {
      const bytes = row.payload.toString('latin1');
      assert.ok(!bytes.includes('Rash'), `${row.type} carries the stop reason`);
      assert.ok(!bytes.includes('Skin test'), `${row.type} carries the allergy status reason`);
    }
  });

  test('other transitions write their events', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    const first = await createRecords(harness, token);
    const second = await createRecords(harness, token);
    await harness.graphql(
      'mutation ($id: ID!) { resolveProblem(id: $id) { id } }',
      { id: first.problem },
      token,
    );
    const written = (await outboxOf(tenantId)).length;

    await harness.graphql(
      'mutation ($id: ID!) { recordProblemRecurrence(id: $id) { id } }',
      { id: first.problem },
      token,
    );
    await harness.graphql(
      'mutation ($id: ID!) { completePrescription(id: $id) { id } }',
      { id: first.prescription },
      token,
    );
    await harness.graphql(
      'mutation ($id: ID!) { cancelPrescription(id: $id, reason: "Duplicate order") { id } }',
      { id: second.prescription },
      token,
    );

    const rows = await outboxOf(tenantId, written);
    assert.deepEqual(
      rows.map((row) => row.type),
      [
        'clinical.problem.recurred',
        'audit.record',
        'clinical.prescription.completed',
        'audit.record',
        'clinical.prescription.cancelled',
        'audit.record',
      ],
    );
    assert.deepEqual(
      rows.filter((row) => row.type === 'audit.record').map((row) => auditOf(row)?.action),
      ['problem.recur', 'prescription.completed', 'prescription.cancelled'],
    );
  });

  test('rejected write leaves no outbox rows', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    const patientId = await registerPatient(harness, token);
    const written = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(
      RECORD_VITALS,
      {
        input: { patientId, effectiveAt: new Date().toISOString(), heartRate: { value: 999, unit: '/min' } },
      },
      token,
    );

    assert.ok(body.errors?.length);
    assert.equal((await outboxOf(tenantId)).length, written);
    const { rows } = await admin.query(
      'select count(*)::int as count from clinical.vital_sign_panels where tenant_id = $1',
      [tenantId],
    );
    assert.equal(rows[0].count, 0);
  });

  test('record reads audited once per patient', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    const ids = await createRecords(harness, token);
    const written = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(
      `query ($id: ID!, $prescription: ID!) {
        prescription(id: $prescription) { id }
        patient(id: $id) { allergies { id } problems { id } latestVitals { heartRate { value } } }
      }`,
      { id: ids.patient, prescription: ids.prescription },
      token,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));

    const reads = (await outboxOf(tenantId, written)).map(auditOf);
    assert.equal(reads.length, 1);
    assert.equal(reads[0]?.operation, Operation.READ);
    assert.equal(reads[0]?.patientId, ids.patient);
  });

  test('root record read audited', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    const ids = await createRecords(harness, token);
    const written = (await outboxOf(tenantId)).length;

    await harness.graphql(
      'query ($id: ID!) { allergyIntolerance(id: $id) { id } }',
      { id: ids.allergy },
      token,
    );

    const reads = (await outboxOf(tenantId, written)).map(auditOf);
    assert.deepEqual(
      reads.map((record) => [record?.operation, record?.patientId]),
      [[Operation.READ, ids.patient]],
    );
  });
});
