import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  Actor_Kind,
  AUDIT_TOPIC,
  AuditRecordSchema,
  CLINICAL_EVENTS_TOPIC,
  decodeEnvelope,
  Operation,
  PatientRegisteredSchema,
  PatientUpdatedSchema,
  unpackPayloadAs,
  type EventEnvelope,
} from '@hms/proto-schemas';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  adultInput,
  GET_PATIENT,
  REGISTER_PATIENT,
  SEARCH_PATIENTS,
  UPDATE_PATIENT,
} from '../../testing/fixtures.js';

interface OutboxRow {
  type: string;
  topic: string;
  message_key: string;
  payload: Buffer;
}

const TWO_READS = `
  query Twice($id: ID!) {
    first: patient(id: $id) { id }
    second: patient(id: $id) { id mrn }
    patients(first: 5) { edges { node { id } } }
  }
`;

/** Returns a new traceparent and its trace id, so each test finds the rows of its own request. */
function newTrace(): { traceparent: string; traceId: string } {
  const traceId = newId().replaceAll('-', '');
  return { traceparent: `00-${traceId}-${'1'.repeat(16)}-01`, traceId };
}

describe('patient events and audit records', () => {
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

  /** Returns the tenant's outbox rows in write order, with their envelopes decoded. */
  const outboxOf = async (tenantId: string) => {
    const { rows } = await admin.query<OutboxRow>(
      'select type, topic, message_key, payload from clinical.outbox where tenant_id = $1 order by id',
      [tenantId],
    );
    return rows.map((row) => ({ ...row, envelope: decodeEnvelope(row.payload) }));
  };
  const auditOf = (envelope: EventEnvelope) => unpackPayloadAs(envelope, AuditRecordSchema);

  const register = async (token: string, headers: Record<string, string> = {}) => {
    const { body } = await harness.graphql<{ registerPatient: { id: string; mrn: string } }>(
      REGISTER_PATIENT,
      { input: adultInput({ phone: '+14155550100' }) },
      token,
      headers,
    );
    assert.equal(body.errors, undefined);
    return body.data!.registerPatient;
  };

  test('registration: event and CREATE record', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    const { traceparent, traceId } = newTrace();
    const patient = await register(token, {
      traceparent,
      'x-hms-client-ip': '198.51.100.7',
      'x-hms-user-agent': 'ward-tablet/2.1',
    });

    const rows = await outboxOf(tenantId);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['clinical.patient.registered', 'audit.record'],
    );
    const [event, audit] = rows;
    assert.equal(event!.topic, CLINICAL_EVENTS_TOPIC);
    assert.equal(event!.message_key, `${tenantId}:${patient.id}`);
    assert.equal(event!.envelope.tenantId, tenantId);
    assert.equal(event!.envelope.producer, 'clinical');
    assert.equal(event!.envelope.subject?.type, 'Patient');
    assert.equal(event!.envelope.subject?.id, patient.id);
    assert.equal(event!.envelope.actor?.kind, Actor_Kind.USER);
    assert.ok(event!.envelope.actor?.id);
    assert.ok(event!.envelope.actor?.sessionId);
    assert.equal(event!.envelope.actor?.ip, '198.51.100.7');
    assert.equal(event!.envelope.actor?.userAgent, 'ward-tablet/2.1');
    assert.equal(event!.envelope.trace?.traceparent.split('-')[1], traceId);
    const payload = unpackPayloadAs(event!.envelope, PatientRegisteredSchema);
    assert.equal(payload?.patientId, patient.id);
    assert.equal(payload?.mrn, patient.mrn);

    assert.equal(audit!.topic, AUDIT_TOPIC);
    assert.equal(audit!.message_key, tenantId);
    const record = auditOf(audit!.envelope);
    assert.equal(record?.operation, Operation.CREATE);
    assert.equal(record?.patientId, patient.id);
    assert.equal(record?.traceId, traceId);
    assert.ok(record?.requestId);
  });

  test('update: changed field names only', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    const patient = await register(token);
    const { body } = await harness.graphql(
      UPDATE_PATIENT,
      { id: patient.id, input: { phone: '+14155550199', email: 'ada@example.org', sex: 'FEMALE' } },
      token,
    );
    assert.equal(body.errors, undefined);

    const rows = (await outboxOf(tenantId)).slice(2);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['clinical.patient.updated', 'audit.record'],
    );
    const payload = unpackPayloadAs(rows[0]!.envelope, PatientUpdatedSchema);
    // sex was sent with its stored value, so it did not change.
    assert.deepEqual(payload?.changedFields.sort(), ['email', 'phone']);
    const record = auditOf(rows[1]!.envelope);
    assert.equal(record?.operation, Operation.UPDATE);
    assert.deepEqual(record?.changedFields.sort(), ['email', 'phone']);
    for (const row of rows) {
      const bytes = row.payload.toString('latin1');
      assert.ok(!bytes.includes('5550199'), 'no phone number in the outbox');
      assert.ok(!bytes.includes('ada@example.org'), 'no e-mail address in the outbox');
    }
  });

  test('rejected write: no outbox rows', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    const { body } = await harness.graphql(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: '2999-01-01' }) },
      token,
    );
    assert.ok(body.errors?.length);
    assert.equal((await outboxOf(tenantId)).length, 0);
  });

  test('reads: one READ record per patient', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    const patient = await register(token);
    const other = await register(token);
    const written = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(TWO_READS, { id: patient.id }, token);
    assert.equal(body.errors, undefined);

    const reads = (await outboxOf(tenantId))
      .slice(written)
      .map((row) => auditOf(row.envelope))
      .filter((record) => record?.operation === Operation.READ);
    assert.deepEqual(reads.map((record) => record?.patientId).sort(), [patient.id, other.id].sort());
    assert.ok(reads.every((record) => record?.action === 'patient.read'));
  });

  test('reads of a search page: one batch', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    await register(token);
    await register(token);
    const written = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(SEARCH_PATIENTS, { first: 10 }, token);
    assert.equal(body.errors, undefined);
    assert.equal((await outboxOf(tenantId)).slice(written).length, 2);
  });

  test('read audit off: no READ records', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);
    const patient = await register(token);
    await admin.query(
      'insert into clinical.tenant_settings (tenant_id, age_of_majority, read_audit_enabled) values ($1, 18, false)',
      [tenantId],
    );
    const written = (await outboxOf(tenantId)).length;

    const { body } = await harness.graphql(GET_PATIENT, { id: patient.id }, token);
    assert.equal(body.errors, undefined);
    assert.equal((await outboxOf(tenantId)).length, written);
  });
});
