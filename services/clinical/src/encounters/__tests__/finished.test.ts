import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  firstError,
  GET_ENCOUNTER,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  type TestTenant,
} from './support.js';

interface EncounterData {
  id: string;
  status: string;
  chiefComplaint: string | null;
  diagnoses: { id: string; code: string | null }[];
}

const UPDATE = `
  mutation U($id: ID!, $input: UpdateEncounterInput!) { updateEncounter(id: $id, input: $input) { id } }
`;
const ADD_DIAGNOSIS = `
  mutation A($id: ID!, $input: DiagnosisInput!) { addDiagnosis(encounterId: $id, input: $input) { id } }
`;
const REMOVE_DIAGNOSIS = `mutation R($id: ID!, $reason: String!) { removeDiagnosis(id: $id, reason: $reason) { id } }`;
const CANCEL = `mutation C($id: ID!, $reason: String!) { cancelEncounter(id: $id, reason: $reason) { id status } }`;
const CREATE_NOTE = `
  mutation N($id: ID!) { createNote(input: { encounterId: $id, kind: PROGRESS, content: { text: "Lab result seen" } }) { id } }
`;

describe('finished encounters', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;
  let patientId: string;

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
    patientId = await registerPatient(harness, tenant);
  });

  after(async () => {
    await harness?.stop();
  });

  /** Documents a past OPD visit, CLOSED with one diagnosis, as the FHIR importer does. */
  const closedVisit = async (): Promise<EncounterData> => {
    const data = await ok<{ openEncounter: EncounterData }>(
      harness,
      OPEN_ENCOUNTER,
      {
        input: {
          patientId,
          chiefComplaint: 'Cough',
          startedAt: '2024-03-01T09:00:00Z',
          endedAt: '2024-03-01T09:30:00Z',
          diagnoses: [{ codeSystem: 'ICD10', code: 'J20.9', text: 'Acute bronchitis', primary: true }],
        },
      },
      tenant.tokens.doctor,
    );
    return data.openEncounter;
  };

  const read = async (id: string) =>
    (await ok<{ encounter: EncounterData }>(harness, GET_ENCOUNTER, { id }, tenant.tokens.doctor)).encounter;

  test('closed encounter rejects updateEncounter', async () => {
    const visit = await closedVisit();
    assert.equal(visit.status, 'CLOSED');

    const { body } = await harness.graphql(
      UPDATE,
      { id: visit.id, input: { chiefComplaint: 'Fever' } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).status, 'CLOSED');
    assert.equal((await read(visit.id)).chiefComplaint, 'Cough');
  });

  test('closed encounter rejects addDiagnosis', async () => {
    const visit = await closedVisit();

    const { body } = await harness.graphql(
      ADD_DIAGNOSIS,
      { id: visit.id, input: { codeSystem: 'ICD10', code: 'J18.9', text: 'Pneumonia' } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).status, 'CLOSED');
    assert.deepEqual(
      (await read(visit.id)).diagnoses.map((diagnosis) => diagnosis.code),
      ['J20.9'],
    );
  });

  test('closed encounter rejects removeDiagnosis', async () => {
    const visit = await closedVisit();

    const { body } = await harness.graphql(
      REMOVE_DIAGNOSIS,
      { id: visit.diagnoses[0]!.id, reason: 'Wrong code' },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).status, 'CLOSED');
    assert.equal((await read(visit.id)).diagnoses.length, 1);
  });

  test('cancelled encounter rejects addDiagnosis', async () => {
    const opened = await ok<{ openEncounter: EncounterData }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    await ok(harness, CANCEL, { id: opened.openEncounter.id, reason: 'Patient left' }, tenant.tokens.doctor);

    const { body } = await harness.graphql(
      ADD_DIAGNOSIS,
      { id: opened.openEncounter.id, input: { text: 'Headache' } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).status, 'CANCELLED');
  });

  test('closed encounter takes a late note', async () => {
    const visit = await closedVisit();

    const data = await ok<{ createNote: { id: string } }>(
      harness,
      CREATE_NOTE,
      { id: visit.id },
      tenant.tokens.doctor,
    );

    assert.ok(data.createNote.id);
  });
});
