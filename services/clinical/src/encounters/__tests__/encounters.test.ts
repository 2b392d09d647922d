import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  ENCOUNTER_FIELDS,
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
  class: string;
  status: string;
  statusReason: string | null;
  chiefComplaint: string | null;
  startedAt: string;
  endedAt: string | null;
  sourceId: string | null;
  attending: { id: string };
  department: { code: string } | null;
  diagnoses: { id: string; codeSystem: string | null; code: string | null; text: string; primary: boolean }[];
}

const TRANSITION = (name: string, extra = '') => `
  mutation T($id: ID!${extra ? `, ${extra}` : ''}) {
    ${name}(id: $id${extra ? `, ${extra.split(':')[0]!.slice(1)}: ${extra.split(':')[0]}` : ''}) { ${ENCOUNTER_FIELDS} }
  }
`;
const START = TRANSITION('startEncounter');
const CLOSE = TRANSITION('closeEncounter');
const CANCEL = TRANSITION('cancelEncounter', '$reason: String!');
const ENTERED_IN_ERROR = TRANSITION('markEncounterEnteredInError', '$reason: String!');
const ADD_DIAGNOSIS = `
  mutation Add($encounterId: ID!, $input: DiagnosisInput!) {
    addDiagnosis(encounterId: $encounterId, input: $input) { id code primary text }
  }
`;
const REMOVE_DIAGNOSIS = `
  mutation Remove($id: ID!, $reason: String!) { removeDiagnosis(id: $id, reason: $reason) { ${ENCOUNTER_FIELDS} } }
`;
const UPDATE = `
  mutation Update($id: ID!, $input: UpdateEncounterInput!) { updateEncounter(id: $id, input: $input) { ${ENCOUNTER_FIELDS} } }
`;
const CREATE_DEPARTMENT = `
  mutation Dept($input: CreateDepartmentInput!) { createDepartment(input: $input) { id code name } }
`;

describe('encounters', () => {
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

  const open = async (input: Record<string, unknown> = {}) =>
    (
      await ok<{ openEncounter: EncounterData }>(
        harness,
        OPEN_ENCOUNTER,
        { input: { patientId, chiefComplaint: 'Cough for three days', ...input } },
        tenant.tokens.doctor,
      )
    ).openEncounter;

  test('open defaults to AMBULATORY OPEN', async () => {
    const encounter = await open();

    assert.equal(encounter.class, 'AMBULATORY');
    assert.equal(encounter.status, 'OPEN');
    assert.equal(encounter.chiefComplaint, 'Cough for three days');
    assert.equal(encounter.attending.id, tenant.userIds.doctor);
    assert.equal(encounter.endedAt, null);
  });

  test('open, start and close', async () => {
    const encounter = await open();

    const started = await ok<{ startEncounter: EncounterData }>(
      harness,
      START,
      { id: encounter.id },
      tenant.tokens.doctor,
    );
    assert.equal(started.startEncounter.status, 'IN_PROGRESS');
    const closed = await ok<{ closeEncounter: EncounterData }>(
      harness,
      CLOSE,
      { id: encounter.id },
      tenant.tokens.doctor,
    );
    assert.equal(closed.closeEncounter.status, 'CLOSED');
    assert.ok(closed.closeEncounter.endedAt);
  });

  test('transitions rejected with CONFLICT', async () => {
    const encounter = await open();

    const { body: closeOpen } = await harness.graphql(CLOSE, { id: encounter.id }, tenant.tokens.doctor);
    assert.deepEqual(errorCodes(closeOpen), ['CONFLICT']);
    assert.equal(firstError(closeOpen).status, 'OPEN');

    await ok(
      harness,
      CANCEL,
      { id: encounter.id, reason: 'Patient left before triage' },
      tenant.tokens.doctor,
    );
    const { body: startCancelled } = await harness.graphql(START, { id: encounter.id }, tenant.tokens.doctor);
    assert.deepEqual(errorCodes(startCancelled), ['CONFLICT']);
    assert.match(startCancelled.errors![0]!.message, /CANCELLED/);

    const { body: cancelTwice } = await harness.graphql(
      CANCEL,
      { id: encounter.id, reason: 'again' },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(cancelTwice), ['CONFLICT']);
  });

  test('cancel stores the reason', async () => {
    const encounter = await open();

    const data = await ok<{ cancelEncounter: EncounterData }>(
      harness,
      CANCEL,
      { id: encounter.id, reason: 'Booked twice' },
      tenant.tokens.doctor,
    );

    assert.equal(data.cancelEncounter.status, 'CANCELLED');
    assert.equal(data.cancelEncounter.statusReason, 'Booked twice');
  });

  test('cancel needs a reason', async () => {
    const encounter = await open();

    const { body } = await harness.graphql(CANCEL, { id: encounter.id, reason: '  ' }, tenant.tokens.doctor);

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), ['reason']);
  });

  test('entered in error from CLOSED', async () => {
    const encounter = await open({ startedAt: '2024-01-01T09:00:00Z', endedAt: '2024-01-01T09:30:00Z' });

    const data = await ok<{ markEncounterEnteredInError: EncounterData }>(
      harness,
      ENTERED_IN_ERROR,
      { id: encounter.id, reason: 'Wrong patient' },
      tenant.tokens.doctor,
    );

    assert.equal(data.markEncounterEnteredInError.status, 'ENTERED_IN_ERROR');
    const { body } = await harness.graphql(
      ADD_DIAGNOSIS,
      { encounterId: encounter.id, input: { text: 'Asthma' } },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('past encounter closed with diagnoses', async () => {
    const encounter = await open({
      startedAt: '2023-05-01T08:00:00Z',
      endedAt: '2023-05-01T08:20:00Z',
      sourceId: `synthea:Encounter/${tenant.tenantId}-1`,
      diagnoses: [
        { codeSystem: 'ICD10', code: 'j45.909', text: 'Asthma, unspecified', primary: true },
        { codeSystem: 'SNOMED_CT', code: '195967001', text: 'Asthma' },
        { text: 'Wheezing at night' },
      ],
    });

    assert.equal(encounter.status, 'CLOSED');
    assert.equal(encounter.startedAt, '2023-05-01T08:00:00.000Z');
    assert.equal(encounter.endedAt, '2023-05-01T08:20:00.000Z');
    assert.deepEqual(
      encounter.diagnoses.map((diagnosis) => [diagnosis.code, diagnosis.primary]),
      [
        ['J45.909', true],
        ['195967001', false],
        [null, false],
      ],
    );
  });

  test('future times rejected naming fields', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const { body } = await harness.graphql(
      OPEN_ENCOUNTER,
      { input: { patientId, startedAt: future, endedAt: future } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), ['input.endedAt', 'input.startedAt']);
  });

  test('bad diagnosis input names fields', async () => {
    const { body } = await harness.graphql(
      OPEN_ENCOUNTER,
      {
        input: {
          patientId,
          class: 'INPATIENT',
          endedAt: '2020-01-01T00:00:00Z',
          startedAt: '2020-01-02T00:00:00Z',
          diagnoses: [
            { codeSystem: 'ICD10', code: '12345', text: 'x' },
            { codeSystem: 'SNOMED_CT', text: 'no code' },
            { code: 'J45', text: 'no system' },
            { text: '   ' },
          ],
        },
      },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), [
      'input.class',
      'input.diagnoses[0].code',
      'input.diagnoses[1].code',
      'input.diagnoses[2].codeSystem',
      'input.diagnoses[3].text',
      'input.endedAt',
    ]);
  });

  test('unknown patient not found', async () => {
    const { body } = await harness.graphql(
      OPEN_ENCOUNTER,
      { input: { patientId: '0190a6a8-0000-7000-8000-000000000000' } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
  });

  test('duplicate sourceId returns existingId', async () => {
    const sourceId = `synthea:Encounter/${tenant.tenantId}-dup`;
    const first = await open({ sourceId });

    const { body } = await harness.graphql(
      OPEN_ENCOUNTER,
      { input: { patientId, sourceId } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).existingId, first.id);
  });

  test('duplicate diagnosis sourceId returns existingId', async () => {
    const sourceId = `synthea:Condition/${tenant.tenantId}-dup`;
    const encounter = await open({ diagnoses: [{ text: 'Asthma', sourceId }] });

    const { body } = await harness.graphql(
      ADD_DIAGNOSIS,
      { encounterId: encounter.id, input: { text: 'Asthma', sourceId } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).existingId, encounter.diagnoses[0]!.id);
  });

  test('new primary diagnosis demotes the old', async () => {
    const encounter = await open({ diagnoses: [{ text: 'Fever', primary: true }] });

    await ok(
      harness,
      ADD_DIAGNOSIS,
      {
        encounterId: encounter.id,
        input: { codeSystem: 'ICD10', code: 'A09', text: 'Gastroenteritis', primary: true },
      },
      tenant.tokens.doctor,
    );

    const data = await ok<{ encounter: EncounterData }>(
      harness,
      GET_ENCOUNTER,
      { id: encounter.id },
      tenant.tokens.doctor,
    );
    assert.deepEqual(
      data.encounter.diagnoses.map((diagnosis) => [diagnosis.text, diagnosis.primary]),
      [
        ['Gastroenteritis', true],
        ['Fever', false],
      ],
    );
  });

  test('removed diagnosis no longer listed', async () => {
    const encounter = await open({ diagnoses: [{ text: 'Fever' }, { text: 'Rash' }] });

    const data = await ok<{ removeDiagnosis: EncounterData }>(
      harness,
      REMOVE_DIAGNOSIS,
      { id: encounter.diagnoses[0]!.id, reason: 'Recorded on the wrong visit' },
      tenant.tokens.doctor,
    );

    assert.deepEqual(
      data.removeDiagnosis.diagnoses.map((diagnosis) => diagnosis.text),
      ['Rash'],
    );
  });

  test('update changes department and complaint', async () => {
    const department = await ok<{ createDepartment: { id: string } }>(
      harness,
      CREATE_DEPARTMENT,
      { input: { code: 'CARD', name: 'Cardiology' } },
      tenant.tokens.tenant_admin,
    );
    const encounter = await open();

    const data = await ok<{ updateEncounter: EncounterData }>(
      harness,
      UPDATE,
      { id: encounter.id, input: { departmentId: department.createDepartment.id, chiefComplaint: null } },
      tenant.tokens.doctor,
    );

    assert.equal(data.updateEncounter.department?.code, 'CARD');
    assert.equal(data.updateEncounter.chiefComplaint, null);
  });

  test('duplicate department code CONFLICT', async () => {
    await ok(
      harness,
      CREATE_DEPARTMENT,
      { input: { code: 'ORTHO', name: 'Orthopaedics' } },
      tenant.tokens.tenant_admin,
    );

    const { body } = await harness.graphql(
      CREATE_DEPARTMENT,
      { input: { code: 'ORTHO', name: 'Orthopaedics again' } },
      tenant.tokens.tenant_admin,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });
});
