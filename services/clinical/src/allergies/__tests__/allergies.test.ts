import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  ALLERGY_FIELDS,
  DOCTOR_PERMISSIONS,
  RECORD_ALLERGY,
  registerPatient,
  UPDATE_ALLERGY_STATUS,
} from '../../testing/records.js';

interface AllergyResult {
  id: string;
  clinicalStatus: string | null;
  verificationStatus: string;
  statusReason: string | null;
  [field: string]: unknown;
}

const PATIENT_ALLERGIES = `
  query Allergies($id: ID!, $status: [AllergyClinicalStatus!], $all: Boolean) {
    patient(id: $id) { allergies(clinicalStatus: $status, includeEnteredInError: $all) { ${ALLERGY_FIELDS} } }
  }
`;

describe('allergies', () => {
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

  const recordAllergy = async (input: Record<string, unknown>, patient = patientId) => {
    const { body } = await harness.graphql<{ recordAllergy: AllergyResult }>(
      RECORD_ALLERGY,
      { input: { patientId: patient, category: 'MEDICATION', ...input } },
      token,
    );
    return body;
  };

  test('records a coded allergy with reactions', async () => {
    const body = await recordAllergy({
      substance: { system: 'RXNORM', code: '7980', display: 'Penicillin G' },
      type: 'ALLERGY',
      criticality: 'HIGH',
      verificationStatus: 'CONFIRMED',
      onsetAt: '2015-04-01T00:00:00Z',
      recordedAt: '2016-01-10T09:00:00Z',
      note: 'Anaphylaxis after IM injection',
      reactions: [
        {
          manifestation: { system: 'SNOMED_CT', code: '39579001', display: 'Anaphylaxis' },
          severity: 'SEVERE',
          onsetAt: '2015-04-01T00:10:00Z',
        },
      ],
    });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const allergy = body.data!.recordAllergy;

    assert.deepEqual(allergy.substance, {
      system: 'RXNORM',
      systemUri: 'http://www.nlm.nih.gov/research/umls/rxnorm',
      code: '7980',
      display: 'Penicillin G',
    });
    assert.equal(allergy.clinicalStatus, 'ACTIVE');
    assert.equal(allergy.verificationStatus, 'CONFIRMED');
    assert.equal(allergy.criticality, 'HIGH');
    assert.equal(allergy.recordedAt, '2016-01-10T09:00:00.000Z');
    assert.deepEqual(allergy.reactions, [
      {
        severity: 'SEVERE',
        description: null,
        onsetAt: '2015-04-01T00:10:00.000Z',
        manifestation: {
          system: 'SNOMED_CT',
          systemUri: 'http://snomed.info/sct',
          code: '39579001',
          display: 'Anaphylaxis',
        },
      },
    ]);
  });

  test('free text substance with defaults', async () => {
    const body = await recordAllergy({ substance: { display: 'Peanuts' }, category: 'FOOD' });

    const allergy = body.data!.recordAllergy;
    assert.deepEqual(allergy.substance, { system: null, systemUri: null, code: null, display: 'Peanuts' });
    assert.equal(allergy.clinicalStatus, 'ACTIVE');
    assert.equal(allergy.verificationStatus, 'UNCONFIRMED');
  });

  test('invalid input names each field', async () => {
    const body = await recordAllergy({
      substance: { system: 'ICD_10', code: 'Z88.0', display: 'Penicillin' },
      onsetAt: new Date(Date.now() + 86_400_000).toISOString(),
      reactions: [{ manifestation: { system: 'SNOMED_CT', display: 'Hives' } }],
    });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), [
      'input.onsetAt',
      'input.reactions[0].manifestation.code',
      'input.substance.system',
    ]);
  });

  test('clinical status with entered in error rejected', async () => {
    const body = await recordAllergy({
      substance: { display: 'Latex' },
      clinicalStatus: 'ACTIVE',
      verificationStatus: 'ENTERED_IN_ERROR',
    });

    assert.deepEqual(invalidFields(body), ['input.clinicalStatus']);
  });

  test('status update with reason', async () => {
    const created = (await recordAllergy({ substance: { display: 'Sulfonamides' } })).data!.recordAllergy;

    const { body } = await harness.graphql<{ updateAllergyStatus: AllergyResult }>(
      UPDATE_ALLERGY_STATUS,
      {
        id: created.id,
        input: {
          verificationStatus: 'REFUTED',
          clinicalStatus: 'INACTIVE',
          reason: 'Oral challenge tolerated',
        },
      },
      token,
    );

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.updateAllergyStatus.verificationStatus, 'REFUTED');
    assert.equal(body.data!.updateAllergyStatus.clinicalStatus, 'INACTIVE');
    assert.equal(body.data!.updateAllergyStatus.statusReason, 'Oral challenge tolerated');
  });

  test('status update needs a reason and a status', async () => {
    const created = (await recordAllergy({ substance: { display: 'Aspirin' } })).data!.recordAllergy;

    const { body } = await harness.graphql(
      UPDATE_ALLERGY_STATUS,
      { id: created.id, input: { reason: ' ' } },
      token,
    );

    assert.deepEqual(invalidFields(body).sort(), ['input', 'input.reason']);
  });

  test('unchanged status rejected', async () => {
    const created = (await recordAllergy({ substance: { display: 'Codeine' } })).data!.recordAllergy;

    const { body } = await harness.graphql(
      UPDATE_ALLERGY_STATUS,
      { id: created.id, input: { clinicalStatus: 'ACTIVE', reason: 'Checked' } },
      token,
    );

    assert.deepEqual(invalidFields(body), ['input']);
  });

  test('entered in error is final', async () => {
    const created = (await recordAllergy({ substance: { display: 'Ibuprofen' } })).data!.recordAllergy;
    const { body: marked } = await harness.graphql<{ updateAllergyStatus: AllergyResult }>(
      UPDATE_ALLERGY_STATUS,
      { id: created.id, input: { verificationStatus: 'ENTERED_IN_ERROR', reason: 'Wrong patient' } },
      token,
    );
    assert.equal(marked.data!.updateAllergyStatus.clinicalStatus, null);

    const { body } = await harness.graphql(
      UPDATE_ALLERGY_STATUS,
      { id: created.id, input: { verificationStatus: 'CONFIRMED', reason: 'Undo' } },
      token,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('patient list filters by status', async () => {
    const own = await registerPatient(harness, token);
    await recordAllergy({ substance: { display: 'Eggs' }, category: 'FOOD' }, own);
    await recordAllergy(
      { substance: { display: 'Dust' }, category: 'ENVIRONMENT', clinicalStatus: 'RESOLVED' },
      own,
    );
    await recordAllergy(
      { substance: { display: 'Cats' }, category: 'ENVIRONMENT', verificationStatus: 'ENTERED_IN_ERROR' },
      own,
    );

    const all = await harness.graphql<{ patient: { allergies: { substance: { display: string } }[] } }>(
      PATIENT_ALLERGIES,
      { id: own },
      token,
    );
    const active = await harness.graphql<{ patient: { allergies: { substance: { display: string } }[] } }>(
      PATIENT_ALLERGIES,
      { id: own, status: ['ACTIVE'] },
      token,
    );
    const withErrors = await harness.graphql<{ patient: { allergies: unknown[] } }>(
      PATIENT_ALLERGIES,
      { id: own, all: true },
      token,
    );

    assert.deepEqual(
      all.body.data!.patient.allergies.map((a) => a.substance.display),
      ['Dust', 'Eggs'],
    );
    assert.deepEqual(
      active.body.data!.patient.allergies.map((a) => a.substance.display),
      ['Eggs'],
    );
    assert.equal(withErrors.body.data!.patient.allergies.length, 3);
  });

  test('unknown allergy not found', async () => {
    const { body } = await harness.graphql(
      UPDATE_ALLERGY_STATUS,
      { id: newId(), input: { clinicalStatus: 'RESOLVED', reason: 'Outgrown' } },
      token,
    );

    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
  });
});
