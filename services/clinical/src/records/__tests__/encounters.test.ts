import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  ADD_PROBLEM,
  amoxicillinInput,
  DOCTOR_PERMISSIONS,
  ISSUE_PRESCRIPTION,
  minutesAgo,
  RECORD_ALLERGY,
  RECORD_VITALS,
  registerPatient,
} from '../../testing/records.js';

const ENCOUNTER_PERMISSIONS = [...DOCTOR_PERMISSIONS, 'encounter:read', 'encounter:write'];

const OPEN_ENCOUNTER = `mutation ($input: OpenEncounterInput!) { openEncounter(input: $input) { id } }`;
const CANCEL_ENCOUNTER = `mutation ($id: ID!) { cancelEncounter(id: $id, reason: "Booked twice") { id } }`;

/** One create per record type, with its result field. */
const CREATES: [string, string, (patientId: string, encounterId: string) => Record<string, unknown>][] = [
  [
    'recordVitalSigns',
    RECORD_VITALS,
    (patientId, encounterId) => ({
      patientId,
      encounterId,
      effectiveAt: minutesAgo(1),
      heartRate: { value: 70, unit: '/min' },
    }),
  ],
  [
    'recordAllergy',
    RECORD_ALLERGY,
    (patientId, encounterId) => ({
      patientId,
      encounterId,
      category: 'FOOD',
      substance: { display: 'Milk' },
    }),
  ],
  [
    'addProblem',
    ADD_PROBLEM,
    (patientId, encounterId) => ({ patientId, encounterId, condition: { display: 'Cough' } }),
  ],
  [
    'issuePrescription',
    ISSUE_PRESCRIPTION,
    (patientId, encounterId) => amoxicillinInput(patientId, { encounterId }),
  ],
];

describe('records linked to encounters', () => {
  let harness: ClinicalHarness;
  let token: string;
  let patientId: string;
  let encounterId: string;
  let otherPatientsEncounter: string;

  before(async () => {
    harness = await startHarness();
    token = await harness.token(newId(), ENCOUNTER_PERMISSIONS);
    patientId = await registerPatient(harness, token);
    encounterId = await openEncounter(token, patientId);
    otherPatientsEncounter = await openEncounter(token, await registerPatient(harness, token));
  });

  after(async () => {
    await harness?.stop();
  });

  const openEncounter = async (as: string, patient: string) => {
    const { body } = await harness.graphql<{ openEncounter: { id: string } }>(
      OPEN_ENCOUNTER,
      { input: { patientId: patient } },
      as,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.openEncounter.id;
  };

  for (const [field, mutation, inputOf] of CREATES) {
    test(`${field}: own encounter stored`, async () => {
      const { body } = await harness.graphql<Record<string, { encounterId: string }>>(
        mutation,
        { input: inputOf(patientId, encounterId) },
        token,
      );

      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.equal(body.data![field]!.encounterId, encounterId);
    });

    test(`${field}: other patient's encounter rejected`, async () => {
      const { body } = await harness.graphql(
        mutation,
        { input: inputOf(patientId, otherPatientsEncounter) },
        token,
      );

      assert.deepEqual(invalidFields(body), ['input.encounterId']);
    });
  }

  test('other tenant encounter rejected', async () => {
    const otherToken = await harness.token(newId(), ENCOUNTER_PERMISSIONS);
    const otherTenantsEncounter = await openEncounter(otherToken, await registerPatient(harness, otherToken));

    const { body } = await harness.graphql(
      RECORD_VITALS,
      { input: CREATES[0]![2](patientId, otherTenantsEncounter) },
      token,
    );

    assert.deepEqual(invalidFields(body), ['input.encounterId']);
  });

  test('unknown encounter rejected', async () => {
    const { body } = await harness.graphql(
      RECORD_VITALS,
      { input: CREATES[0]![2](patientId, newId()) },
      token,
    );

    assert.deepEqual(invalidFields(body), ['input.encounterId']);
  });

  test('cancelled encounter rejected', async () => {
    const cancelled = await openEncounter(token, patientId);
    const { body: cancel } = await harness.graphql(CANCEL_ENCOUNTER, { id: cancelled }, token);
    assert.equal(cancel.errors, undefined, JSON.stringify(cancel.errors));

    const { body } = await harness.graphql(
      RECORD_VITALS,
      { input: CREATES[0]![2](patientId, cancelled) },
      token,
    );

    assert.deepEqual(invalidFields(body), ['input.encounterId']);
  });

  test('database rejects another patient encounter', async () => {
    const admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query('select tenant_id from clinical.encounters where id = $1', [
        encounterId,
      ]);
      const otherPatient = (
        await admin.query('select patient_id from clinical.encounters where id = $1', [
          otherPatientsEncounter,
        ])
      ).rows[0].patient_id;

      await assert.rejects(
        admin.query(
          `insert into clinical.problems (tenant_id, id, patient_id, encounter_id, condition_display, status, recorded_at, recorded_by, created_at, updated_at)
           values ($1, $2, $3, $4, 'Injected', 'ACTIVE', now(), $2, now(), now())`,
          [rows[0].tenant_id, newId(), otherPatient, encounterId],
        ),
        /problems_encounter_fkey/,
      );
    } finally {
      await admin.end();
    }
  });
});
