import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  AuditRecordSchema,
  decodeEnvelope,
  PrescriptionAllergyOverriddenSchema,
  unpackPayloadAs,
} from '@hms/proto-schemas';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields, messageFor } from '../../testing/fixtures.js';
import {
  amoxicillinInput,
  DOCTOR_PERMISSIONS,
  ISSUE_PRESCRIPTION,
  PRESCRIPTION_FIELDS,
  RECORD_ALLERGY,
  registerPatient,
  UPDATE_ALLERGY_STATUS,
} from '../../testing/records.js';

interface PrescriptionResult {
  id: string;
  status: string;
  statusReason: string | null;
  statusChangedAt: string | null;
  allergyOverrideReason: string | null;
  overriddenAllergyIds: string[];
  prescriber: { id: string };
  [field: string]: unknown;
}

const STOP = `mutation Stop($id: ID!, $reason: String!) { stopPrescription(id: $id, reason: $reason) { ${PRESCRIPTION_FIELDS} } }`;
const COMPLETE = `mutation Complete($id: ID!) { completePrescription(id: $id) { ${PRESCRIPTION_FIELDS} } }`;
const CANCEL = `mutation Cancel($id: ID!, $reason: String!) { cancelPrescription(id: $id, reason: $reason) { ${PRESCRIPTION_FIELDS} } }`;
const PATIENT_PRESCRIPTIONS = `
  query Prescriptions($id: ID!, $status: [PrescriptionStatus!]) {
    patient(id: $id) { prescriptions(status: $status) { id status } }
  }
`;

/** Returns the `sub` claim of a signed token, the user the API records as the prescriber. */
function subjectOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    sub: string;
  };
  return payload.sub;
}

describe('prescriptions', () => {
  let harness: ClinicalHarness;
  let admin: pg.Client;
  let tenantId: string;
  let token: string;

  before(async () => {
    harness = await startHarness();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    tenantId = newId();
    token = await harness.token(tenantId, DOCTOR_PERMISSIONS);
  });

  after(async () => {
    await admin?.end();
    await harness?.stop();
  });

  const issue = async (input: Record<string, unknown>) => {
    const { body } = await harness.graphql<{ issuePrescription: PrescriptionResult }>(
      ISSUE_PRESCRIPTION,
      { input },
      token,
    );
    return body;
  };

  const prescriptionCount = async (patientId: string) => {
    const { rows } = await admin.query<{ count: string }>(
      'select count(*)::text as count from clinical.prescriptions where tenant_id = $1 and patient_id = $2',
      [tenantId, patientId],
    );
    return Number(rows[0]!.count);
  };

  const recordAllergy = async (patientId: string, input: Record<string, unknown>) => {
    const { body } = await harness.graphql<{ recordAllergy: { id: string } }>(
      RECORD_ALLERGY,
      { input: { patientId, category: 'MEDICATION', verificationStatus: 'CONFIRMED', ...input } },
      token,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.recordAllergy.id;
  };

  test('issues a structured prescription', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(amoxicillinInput(patientId));

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const prescription = body.data!.issuePrescription;
    assert.equal(prescription.status, 'ACTIVE');
    assert.deepEqual(prescription.dose, { value: 500, unit: 'mg' });
    assert.deepEqual(prescription.frequency, {
      timesPerPeriod: 3,
      period: 1,
      periodUnit: 'DAY',
      asNeeded: false,
      asNeededFor: null,
    });
    assert.deepEqual(prescription.duration, { value: 7, unit: 'DAY' });
    assert.deepEqual(prescription.quantity, { value: 21, unit: '{cap}' });
    assert.equal(prescription.route, 'ORAL');
    assert.ok(prescription.prescriber.id);
    assert.deepEqual(prescription.overriddenAllergyIds, []);
  });

  test('as needed without a schedule', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(
      amoxicillinInput(patientId, {
        medication: { system: 'RXNORM', code: '313782', display: 'Acetaminophen 325 MG Oral Tablet' },
        dose: { value: 2, unit: '{tbl}' },
        frequency: { asNeeded: true, asNeededFor: 'pain' },
        quantity: null,
        duration: null,
      }),
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data!.issuePrescription.frequency, {
      timesPerPeriod: null,
      period: null,
      periodUnit: null,
      asNeeded: true,
      asNeededFor: 'pain',
    });
  });

  test('invalid dose and frequency named', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(
      amoxicillinInput(patientId, {
        dose: { value: 0, unit: 'tablets' },
        frequency: { timesPerPeriod: 3 },
      }),
    );

    assert.deepEqual(invalidFields(body).sort(), [
      'input.dose.unit',
      'input.dose.value',
      'input.frequency.periodUnit',
    ]);
  });

  test('schedule required unless as needed', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(amoxicillinInput(patientId, { frequency: {} }));

    assert.deepEqual(invalidFields(body), ['input.frequency.timesPerPeriod']);
  });

  test('allergy by code rejects prescribing', async () => {
    const patientId = await registerPatient(harness, token);
    const allergyId = await recordAllergy(patientId, {
      substance: { system: 'RXNORM', code: '308182', display: 'Amoxicillin 500 MG Oral Capsule' },
    });

    const body = await issue(amoxicillinInput(patientId));

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), ['input.allergyOverrideReason']);
    const message = messageFor(body, 'input.allergyOverrideReason') ?? '';
    assert.ok(message.includes(allergyId), message);
    assert.ok(message.includes('Amoxicillin'), message);
    const { rows } = await admin.query(
      'select count(*)::int as count from clinical.prescriptions where patient_id = $1',
      [patientId],
    );
    assert.equal(rows[0].count, 0);
  });

  test('allergy by name rejects prescribing', async () => {
    const patientId = await registerPatient(harness, token);
    await recordAllergy(patientId, { substance: { display: 'AMOXICILLIN' } });

    const body = await issue(amoxicillinInput(patientId));

    assert.deepEqual(invalidFields(body), ['input.allergyOverrideReason']);
  });

  test('refuted, inactive and food allergies ignored', async () => {
    const patientId = await registerPatient(harness, token);
    const refuted = await recordAllergy(patientId, { substance: { display: 'Amoxicillin' } });
    await harness.graphql(
      UPDATE_ALLERGY_STATUS,
      { id: refuted, input: { verificationStatus: 'REFUTED', reason: 'Tolerated a challenge dose' } },
      token,
    );
    await recordAllergy(patientId, { substance: { display: 'Amoxicillin' }, clinicalStatus: 'RESOLVED' });
    await recordAllergy(patientId, { substance: { display: 'Amoxicillin' }, category: 'FOOD' });

    const body = await issue(amoxicillinInput(patientId));

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  });

  test('override recorded and audited', async () => {
    const patientId = await registerPatient(harness, token);
    const allergyId = await recordAllergy(patientId, {
      substance: { display: 'Amoxicillin' },
      criticality: 'LOW',
    });

    const body = await issue(
      amoxicillinInput(patientId, { allergyOverrideReason: 'Mild rash only; benefit outweighs risk' }),
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const prescription = body.data!.issuePrescription;
    assert.equal(prescription.allergyOverrideReason, 'Mild rash only; benefit outweighs risk');
    assert.deepEqual(prescription.overriddenAllergyIds, [allergyId]);

    const { rows } = await admin.query<{ type: string; payload: Buffer }>(
      "select type, payload from clinical.outbox where tenant_id = $1 and type in ('clinical.prescription.allergy_overridden', 'audit.record') order by id",
      [tenantId],
    );
    const overridden = rows.find((row) => row.type === 'clinical.prescription.allergy_overridden');
    assert.ok(overridden);
    const payload = unpackPayloadAs(decodeEnvelope(overridden.payload), PrescriptionAllergyOverriddenSchema);
    assert.equal(payload?.prescriptionId, prescription.id);
    assert.deepEqual(payload?.allergyIds, [allergyId]);
    const audits = rows
      .filter((row) => row.type === 'audit.record')
      .map((row) => unpackPayloadAs(decodeEnvelope(row.payload), AuditRecordSchema))
      .filter((record) => record?.entityId === prescription.id);
    assert.deepEqual(
      audits.map((record) => record?.action),
      ['prescription.create', 'prescription.allergy_override'],
    );
    assert.ok(!overridden.payload.toString('latin1').includes('benefit'), 'no override reason in the event');
  });

  test('history with a final status not checked', async () => {
    const patientId = await registerPatient(harness, token);
    await recordAllergy(patientId, { substance: { display: 'Amoxicillin' } });

    const body = await issue(
      amoxicillinInput(patientId, {
        status: 'COMPLETED',
        authoredAt: '2019-02-01T10:00:00Z',
        sourceId: `test:${newId()}`,
      }),
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.issuePrescription.status, 'COMPLETED');
    assert.equal(body.data!.issuePrescription.authoredAt, '2019-02-01T10:00:00.000Z');
  });

  test('history without dosage: not recorded', async () => {
    const patientId = await registerPatient(harness, token);
    const sourceId = `test:${newId()}`;

    const body = await issue(
      amoxicillinInput(patientId, {
        dose: null,
        frequency: null,
        duration: null,
        quantity: null,
        status: 'COMPLETED',
        authoredAt: '2018-05-01T10:00:00Z',
        sourceId,
      }),
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const prescription = body.data!.issuePrescription;
    assert.equal(prescription.dose, null);
    assert.equal(prescription.frequency, null);
    assert.equal(prescription.dosageRecorded, false);
    assert.equal(prescription.status, 'COMPLETED');
    assert.equal(prescription.prescriber.id, subjectOf(token));
    const { rows } = await admin.query<{ dose_value: string | null; as_needed: boolean | null }>(
      'select dose_value, as_needed from clinical.prescriptions where tenant_id = $1 and source_id = $2',
      [tenantId, sourceId],
    );
    assert.deepEqual(rows, [{ dose_value: null, as_needed: null }]);
  });

  test('history with frequency, no dose', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(
      amoxicillinInput(patientId, {
        dose: null,
        status: 'STOPPED',
        statusReason: 'Stopped in the imported record.',
        authoredAt: '2018-05-01T10:00:00Z',
      }),
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const prescription = body.data!.issuePrescription;
    assert.equal(prescription.dose, null);
    assert.deepEqual(prescription.frequency, {
      timesPerPeriod: 3,
      period: 1,
      periodUnit: 'DAY',
      asNeeded: false,
      asNeededFor: null,
    });
    assert.equal(prescription.dosageRecorded, false);
  });

  test('recorded dosage flagged as recorded', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(amoxicillinInput(patientId));

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.issuePrescription.dosageRecorded, true);
  });

  test('active without dosage rejected', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(amoxicillinInput(patientId, { dose: null, frequency: null }));

    assert.deepEqual(invalidFields(body).sort(), ['input.dose', 'input.frequency']);
    assert.match(messageFor(body, 'input.dose') ?? '', /is required, except for history/);
    assert.equal(await prescriptionCount(patientId), 0);
  });

  test('final status without authoredAt needs dosage', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(amoxicillinInput(patientId, { dose: null, status: 'COMPLETED' }));

    assert.deepEqual(invalidFields(body), ['input.dose']);
    assert.equal(await prescriptionCount(patientId), 0);
  });

  test('active row without dose violates constraint', async () => {
    const patientId = await registerPatient(harness, token);
    const body = await issue(amoxicillinInput(patientId));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));

    await assert.rejects(
      admin.query('update clinical.prescriptions set dose_value = null, dose_unit = null where id = $1', [
        body.data!.issuePrescription.id,
      ]),
      /prescriptions_dosage_recorded_check/,
    );
  });

  test('prescriber of another user rejected', async () => {
    const patientId = await registerPatient(harness, token);

    // The prescriber is the signature of the order, so the API takes it from the token only, for
    // imported history too.
    const body = await issue(
      amoxicillinInput(patientId, {
        status: 'COMPLETED',
        authoredAt: '2018-05-01T10:00:00Z',
        prescriberId: newId(),
      }),
    );

    assert.equal(body.data, undefined);
    assert.match(body.errors?.[0]?.message ?? '', /prescriberId/);
    assert.equal(await prescriptionCount(patientId), 0);
  });

  test('history stopped needs a reason', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(
      amoxicillinInput(patientId, { status: 'STOPPED', authoredAt: '2019-02-01T10:00:00Z' }),
    );

    assert.deepEqual(invalidFields(body), ['input.statusReason']);
  });

  test('cancelled not accepted at creation', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(amoxicillinInput(patientId, { status: 'CANCELLED' }));

    assert.deepEqual(invalidFields(body), ['input.status']);
  });

  test('future authoredAt rejected', async () => {
    const patientId = await registerPatient(harness, token);

    const body = await issue(
      amoxicillinInput(patientId, { authoredAt: new Date(Date.now() + 86_400_000).toISOString() }),
    );

    assert.deepEqual(invalidFields(body), ['input.authoredAt']);
  });

  const transitions: [string, string, Record<string, unknown>, string][] = [
    ['stop', STOP, { reason: 'Rash developed' }, 'STOPPED'],
    ['complete', COMPLETE, {}, 'COMPLETED'],
    ['cancel', CANCEL, { reason: 'Written for the wrong patient' }, 'CANCELLED'],
  ];
  for (const [name, mutation, args, status] of transitions) {
    test(`${name} an active prescription`, async () => {
      const patientId = await registerPatient(harness, token);
      const created = (await issue(amoxicillinInput(patientId))).data!.issuePrescription;

      const { body } = await harness.graphql<Record<string, PrescriptionResult>>(
        mutation,
        { id: created.id, ...args },
        token,
      );

      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const changed = Object.values(body.data!)[0]!;
      assert.equal(changed.status, status);
      assert.ok(changed.statusChangedAt);
      assert.equal(changed.statusReason, (args.reason as string | undefined) ?? null);
    });

    test(`${name} a final prescription conflicts`, async () => {
      const patientId = await registerPatient(harness, token);
      const created = (await issue(amoxicillinInput(patientId))).data!.issuePrescription;
      await harness.graphql(COMPLETE, { id: created.id }, token);

      const { body } = await harness.graphql(mutation, { id: created.id, ...args }, token);

      assert.deepEqual(errorCodes(body), ['CONFLICT']);
      assert.match(body.errors![0]!.message, /is COMPLETED/);
    });
  }

  test('stop needs a reason', async () => {
    const patientId = await registerPatient(harness, token);
    const created = (await issue(amoxicillinInput(patientId))).data!.issuePrescription;

    const { body } = await harness.graphql(STOP, { id: created.id, reason: '   ' }, token);

    assert.deepEqual(invalidFields(body), ['reason']);
  });

  test('patient prescriptions by status', async () => {
    const patientId = await registerPatient(harness, token);
    const first = (await issue(amoxicillinInput(patientId))).data!.issuePrescription;
    const second = (await issue(amoxicillinInput(patientId))).data!.issuePrescription;
    await harness.graphql(STOP, { id: first.id, reason: 'Switched' }, token);

    const active = await harness.graphql<{ patient: { prescriptions: { id: string }[] } }>(
      PATIENT_PRESCRIPTIONS,
      { id: patientId, status: 'ACTIVE' },
      token,
    );
    const all = await harness.graphql<{ patient: { prescriptions: { id: string }[] } }>(
      PATIENT_PRESCRIPTIONS,
      { id: patientId },
      token,
    );

    assert.deepEqual(
      active.body.data!.patient.prescriptions.map((p) => p.id),
      [second.id],
    );
    assert.equal(all.body.data!.patient.prescriptions.length, 2);
  });
});
