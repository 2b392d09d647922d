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
  minutesAgo,
  RECORD_ALLERGY,
  RECORD_VITALS,
  registerPatient,
} from '../../testing/records.js';
import {
  ADMIT,
  createWard,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  type TestTenant,
} from '../../encounters/__tests__/support.js';

/** Born 1975-03-14, died 2003-06-01: every record must fall between the two. */
const BIRTH_DATE = '1975-03-14';
const DEATH = '2003-06-01T10:00:00Z';
const PENICILLIN = { system: 'RXNORM', code: '7980', display: 'Penicillin G' };
const DIABETES = { system: 'ICD_10', code: 'E11.9', display: 'Type 2 diabetes mellitus' };

describe('record times within the patient lifetime', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;
  let recordsToken: string;
  let deceasedId: string;

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
    recordsToken = await harness.token(tenant.tenantId, DOCTOR_PERMISSIONS);
    deceasedId = await registerPatient(harness, recordsToken, {
      birthDate: BIRTH_DATE,
      deceasedAt: new Date(DEATH),
    });
  });

  after(async () => {
    await harness?.stop();
  });

  const expectInvalid = async (
    query: string,
    input: Record<string, unknown>,
    token: string,
    field: string,
  ) => {
    const { body } = await harness.graphql(query, { input }, token);
    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), [field]);
  };

  test('encounter after death rejected', async () => {
    await expectInvalid(OPEN_ENCOUNTER, { patientId: deceasedId }, tenant.tokens.doctor, 'input.startedAt');
  });

  test('encounter before death accepted', async () => {
    const data = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId: deceasedId, startedAt: '2001-02-03T09:00:00Z' } },
      tenant.tokens.doctor,
    );

    assert.ok(data.openEncounter.id);
  });

  test('encounter before birth rejected', async () => {
    await expectInvalid(
      OPEN_ENCOUNTER,
      { patientId: deceasedId, startedAt: '1950-01-01T09:00:00Z' },
      tenant.tokens.doctor,
      'input.startedAt',
    );
  });

  test('admission after death rejected', async () => {
    const ward = await createWard(harness, tenant, ['1']);

    await expectInvalid(
      ADMIT,
      { patientId: deceasedId, bedId: ward.beds['1'] },
      tenant.tokens.doctor,
      'input.admittedAt',
    );
  });

  test('vital signs after death rejected', async () => {
    await expectInvalid(
      RECORD_VITALS,
      { patientId: deceasedId, effectiveAt: minutesAgo(5), heartRate: { value: 72, unit: '/min' } },
      recordsToken,
      'input.effectiveAt',
    );
  });

  test('prescription after death rejected', async () => {
    await expectInvalid(ISSUE_PRESCRIPTION, amoxicillinInput(deceasedId), recordsToken, 'input.authoredAt');
  });

  test('prescription before birth rejected', async () => {
    await expectInvalid(
      ISSUE_PRESCRIPTION,
      amoxicillinInput(deceasedId, { authoredAt: '1960-01-01T00:00:00Z', status: 'COMPLETED' }),
      recordsToken,
      'input.authoredAt',
    );
  });

  test('problem onset before birth rejected', async () => {
    await expectInvalid(
      ADD_PROBLEM,
      { patientId: deceasedId, condition: DIABETES, onsetAt: '1900-01-01T00:00:00Z' },
      recordsToken,
      'input.onsetAt',
    );
  });

  test('problem onset in life accepted', async () => {
    const { body } = await harness.graphql(
      ADD_PROBLEM,
      { input: { patientId: deceasedId, condition: DIABETES, onsetAt: '1999-05-01T00:00:00Z' } },
      recordsToken,
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  });

  test('allergy onset before birth rejected', async () => {
    await expectInvalid(
      RECORD_ALLERGY,
      {
        patientId: deceasedId,
        substance: PENICILLIN,
        category: 'MEDICATION',
        onsetAt: '1970-01-01T00:00:00Z',
      },
      recordsToken,
      'input.onsetAt',
    );
  });

  test('allergy reaction onset after death rejected', async () => {
    await expectInvalid(
      RECORD_ALLERGY,
      {
        patientId: deceasedId,
        substance: PENICILLIN,
        category: 'MEDICATION',
        reactions: [{ manifestation: { display: 'Hives' }, onsetAt: '2010-01-01T00:00:00Z' }],
      },
      recordsToken,
      'input.reactions[0].onsetAt',
    );
  });
});
