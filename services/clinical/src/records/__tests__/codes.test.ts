import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  ADD_PROBLEM,
  amoxicillinInput,
  DOCTOR_PERMISSIONS,
  ISSUE_PRESCRIPTION,
  RECORD_ALLERGY,
  registerPatient,
} from '../../testing/records.js';
import { newTenant, ok, OPEN_ENCOUNTER, type TestTenant } from '../../encounters/__tests__/support.js';

const ADD_DIAGNOSIS = `
  mutation Add($encounterId: ID!, $input: DiagnosisInput!) {
    addDiagnosis(encounterId: $encounterId, input: $input) { id code }
  }
`;

describe('code formats of clinical records', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;
  let recordsToken: string;
  let patientId: string;

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
    recordsToken = await harness.token(tenant.tenantId, DOCTOR_PERMISSIONS);
    patientId = await registerPatient(harness, recordsToken);
  });

  after(async () => {
    await harness?.stop();
  });

  const expectInvalid = async (
    query: string,
    variables: Record<string, unknown>,
    token: string,
    field: string,
  ) => {
    const { body } = await harness.graphql(query, variables, token);
    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), [field]);
  };

  test('problem with malformed ICD-10 rejected', async () => {
    for (const system of ['ICD_10', 'ICD_10_CM']) {
      await expectInvalid(
        ADD_PROBLEM,
        { input: { patientId, condition: { system, code: '123', display: 'Not a code' } } },
        recordsToken,
        'input.condition.code',
      );
    }
  });

  test('problem with malformed SNOMED CT rejected', async () => {
    await expectInvalid(
      ADD_PROBLEM,
      { input: { patientId, condition: { system: 'SNOMED_CT', code: 'E11.9', display: 'Diabetes' } } },
      recordsToken,
      'input.condition.code',
    );
  });

  test('problem ICD-10 code stored in upper case', async () => {
    const { body } = await harness.graphql<{ addProblem: { condition: { code: string } } }>(
      ADD_PROBLEM,
      { input: { patientId, condition: { system: 'ICD_10_CM', code: 'e11.9', display: 'Diabetes' } } },
      recordsToken,
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.addProblem.condition.code, 'E11.9');
  });

  test('allergy with non-numeric RxNorm rejected', async () => {
    await expectInvalid(
      RECORD_ALLERGY,
      {
        input: {
          patientId,
          category: 'MEDICATION',
          substance: { system: 'RXNORM', code: 'abc', display: 'Penicillin' },
        },
      },
      recordsToken,
      'input.substance.code',
    );
  });

  test('prescription with non-numeric RxNorm rejected', async () => {
    await expectInvalid(
      ISSUE_PRESCRIPTION,
      {
        input: amoxicillinInput(patientId, {
          medication: { system: 'RXNORM', code: 'AMOX-500', display: 'Amoxicillin 500 MG' },
        }),
      },
      recordsToken,
      'input.medication.code',
    );
  });

  test('addDiagnosis names input.code', async () => {
    const opened = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );

    await expectInvalid(
      ADD_DIAGNOSIS,
      {
        encounterId: opened.openEncounter.id,
        input: { codeSystem: 'ICD10', code: '123', text: 'Not a code' },
      },
      tenant.tokens.doctor,
      'input.code',
    );
  });
});
