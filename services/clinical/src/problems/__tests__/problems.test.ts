import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import { ADD_PROBLEM, DOCTOR_PERMISSIONS, PROBLEM_FIELDS, registerPatient } from '../../testing/records.js';

interface ProblemResult {
  id: string;
  status: string;
  onsetAt: string | null;
  resolvedAt: string | null;
  condition: { system: string | null; code: string | null; display: string };
}

const RESOLVE = `
  mutation Resolve($id: ID!, $resolvedAt: DateTime) { resolveProblem(id: $id, resolvedAt: $resolvedAt) { ${PROBLEM_FIELDS} } }
`;
const RECUR = `mutation Recur($id: ID!) { recordProblemRecurrence(id: $id) { ${PROBLEM_FIELDS} } }`;
const PATIENT_PROBLEMS = `
  query Problems($id: ID!, $status: [ProblemStatus!]) {
    patient(id: $id) { problems(status: $status) { id status condition { display } } }
  }
`;

describe('problem list', () => {
  let harness: ClinicalHarness;
  let token: string;
  let patientId: string;

  before(async () => {
    harness = await startHarness();
    token = await harness.token(newId(), DOCTOR_PERMISSIONS);
    patientId = await registerPatient(harness, token);
  });

  after(async () => {
    await harness?.stop();
  });

  const add = async (input: Record<string, unknown>, patient = patientId) => {
    const { body } = await harness.graphql<{ addProblem: ProblemResult }>(
      ADD_PROBLEM,
      { input: { patientId: patient, ...input } },
      token,
    );
    return body;
  };

  test('adds an ICD-10 problem', async () => {
    const body = await add({
      condition: {
        system: 'ICD_10',
        code: 'E11.9',
        display: 'Type 2 diabetes mellitus without complications',
      },
      onsetAt: '2019-05-01T00:00:00Z',
    });

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.addProblem.status, 'ACTIVE');
    assert.equal(body.data!.addProblem.condition.code, 'E11.9');
    assert.equal(body.data!.addProblem.resolvedAt, null);
  });

  test('history with resolvedAt stored resolved', async () => {
    const body = await add({
      condition: { system: 'SNOMED_CT', code: '444814009', display: 'Viral sinusitis' },
      onsetAt: '2018-01-01T00:00:00Z',
      resolvedAt: '2018-01-15T00:00:00Z',
    });

    assert.equal(body.data!.addProblem.status, 'RESOLVED');
    assert.equal(body.data!.addProblem.resolvedAt, '2018-01-15T00:00:00.000Z');
  });

  test('resolved before onset rejected', async () => {
    const body = await add({
      condition: { display: 'Back pain' },
      onsetAt: '2020-01-10T00:00:00Z',
      resolvedAt: '2020-01-01T00:00:00Z',
    });

    assert.deepEqual(invalidFields(body), ['input.resolvedAt']);
  });

  test('wrong code system rejected', async () => {
    const body = await add({ condition: { system: 'RXNORM', code: '7980', display: 'Penicillin' } });

    assert.deepEqual(invalidFields(body), ['input.condition.system']);
  });

  test('resolve, recur and resolve again', async () => {
    const created = (await add({ condition: { display: 'Migraine' }, onsetAt: '2021-01-01T00:00:00Z' })).data!
      .addProblem;

    const resolved = await harness.graphql<{ resolveProblem: ProblemResult }>(
      RESOLVE,
      { id: created.id, resolvedAt: '2021-06-01T00:00:00Z' },
      token,
    );
    assert.equal(resolved.body.data!.resolveProblem.status, 'RESOLVED');
    assert.equal(resolved.body.data!.resolveProblem.resolvedAt, '2021-06-01T00:00:00.000Z');

    const recurred = await harness.graphql<{ recordProblemRecurrence: ProblemResult }>(
      RECUR,
      { id: created.id },
      token,
    );
    assert.equal(recurred.body.data!.recordProblemRecurrence.status, 'RECURRENCE');
    assert.equal(recurred.body.data!.recordProblemRecurrence.resolvedAt, null);

    const again = await harness.graphql<{ resolveProblem: ProblemResult }>(
      RESOLVE,
      { id: created.id },
      token,
    );
    assert.equal(again.body.data!.resolveProblem.status, 'RESOLVED');
  });

  test('resolving twice conflicts', async () => {
    const created = (await add({ condition: { display: 'Otitis' } })).data!.addProblem;
    await harness.graphql(RESOLVE, { id: created.id }, token);

    const { body } = await harness.graphql(RESOLVE, { id: created.id }, token);

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('recurrence of an active problem conflicts', async () => {
    const created = (await add({ condition: { display: 'Asthma' } })).data!.addProblem;

    const { body } = await harness.graphql(RECUR, { id: created.id }, token);

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('resolution before onset rejected', async () => {
    const created = (await add({ condition: { display: 'Gout' }, onsetAt: '2022-03-01T00:00:00Z' })).data!
      .addProblem;

    const { body } = await harness.graphql(
      RESOLVE,
      { id: created.id, resolvedAt: '2022-02-01T00:00:00Z' },
      token,
    );

    assert.deepEqual(invalidFields(body), ['resolvedAt']);
  });

  test('future resolution rejected', async () => {
    const created = (await add({ condition: { display: 'Eczema' } })).data!.addProblem;

    const { body } = await harness.graphql(
      RESOLVE,
      { id: created.id, resolvedAt: new Date(Date.now() + 86_400_000).toISOString() },
      token,
    );

    assert.deepEqual(invalidFields(body), ['resolvedAt']);
  });

  test('patient problems by status', async () => {
    const own = await registerPatient(harness, token);
    await add({ condition: { display: 'Hypertension' }, onsetAt: '2020-01-01T00:00:00Z' }, own);
    await add(
      {
        condition: { display: 'Fracture of radius' },
        onsetAt: '2015-01-01T00:00:00Z',
        resolvedAt: '2015-03-01T00:00:00Z',
      },
      own,
    );
    await add({ condition: { display: 'Obesity' } }, own);

    const all = await harness.graphql<{ patient: { problems: { condition: { display: string } }[] } }>(
      PATIENT_PROBLEMS,
      { id: own },
      token,
    );
    const active = await harness.graphql<{ patient: { problems: { condition: { display: string } }[] } }>(
      PATIENT_PROBLEMS,
      { id: own, status: ['ACTIVE', 'RECURRENCE'] },
      token,
    );

    assert.deepEqual(
      all.body.data!.patient.problems.map((p) => p.condition.display),
      ['Hypertension', 'Fracture of radius', 'Obesity'],
    );
    assert.deepEqual(
      active.body.data!.patient.problems.map((p) => p.condition.display),
      ['Hypertension', 'Obesity'],
    );
  });
});
