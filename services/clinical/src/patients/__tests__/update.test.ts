import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  adultInput,
  birthDateForAge,
  GET_PATIENT,
  invalidFields,
  REGISTER_PATIENT,
  SEARCH_PATIENTS,
  UPDATE_PATIENT,
} from '../../testing/fixtures.js';
import type { RegisterPatientInput } from '../inputs.js';

interface PatientResult {
  id: string;
  mrn: string;
  phone: string | null;
  email: string | null;
  genderIdentity: string | null;
  isMinor: boolean;
  createdAt: string;
  updatedAt: string;
  name: { given: string[]; family: string; text: string };
  address: { city: string | null } | null;
  identifiers: { type: string; system: string; value: string }[];
  guardians: { id: string; relationship: string; name: { text: string } }[];
}

describe('updatePatient', () => {
  let harness: ClinicalHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  const register = async (token: string, input: RegisterPatientInput) => {
    const { body } = await harness.graphql<{ registerPatient: PatientResult }>(
      REGISTER_PATIENT,
      { input },
      token,
    );
    assert.equal(body.errors, undefined);
    return body.data!.registerPatient;
  };
  const update = async (token: string, id: string, input: Record<string, unknown>) =>
    (await harness.graphql<{ updatePatient: PatientResult | null }>(UPDATE_PATIENT, { id, input }, token))
      .body;
  const read = async (token: string, id: string) =>
    (await harness.graphql<{ patient: PatientResult | null }>(GET_PATIENT, { id }, token)).body.data?.patient;

  test('changes sent fields only', async () => {
    const token = await harness.token(newId());
    const patient = await register(
      token,
      adultInput({ phone: '+44 20 7946 0958', email: 'ada@example.org', address: { city: 'London' } }),
    );

    const body = await update(token, patient.id, {
      name: { given: ['Augusta', 'Ada'], family: 'King' },
      phone: '+44 20 7946 0000',
      genderIdentity: 'woman',
    });
    assert.equal(body.errors, undefined);
    const updated = body.data!.updatePatient!;

    assert.equal(updated.name.text, 'Augusta Ada King');
    assert.equal(updated.phone, '+442079460000');
    assert.equal(updated.genderIdentity, 'woman');
    assert.equal(updated.email, 'ada@example.org');
    assert.equal(updated.address?.city, 'London');
    assert.equal(updated.mrn, patient.mrn);
    assert.equal(updated.createdAt, patient.createdAt);
    assert.notEqual(updated.updatedAt, patient.updatedAt);
    assert.deepEqual(await read(token, patient.id), updated);
  });

  test('null clears optional fields', async () => {
    const token = await harness.token(newId());
    const patient = await register(
      token,
      adultInput({ phone: '+44 20 7946 0958', email: 'ada@example.org', address: { city: 'London' } }),
    );

    const body = await update(token, patient.id, { phone: null, email: null, address: null });

    assert.equal(body.data?.updatePatient?.phone, null);
    assert.equal(body.data?.updatePatient?.email, null);
    assert.equal(body.data?.updatePatient?.address, null);
  });

  test('search follows new name', async () => {
    const token = await harness.token(newId());
    const patient = await register(token, adultInput());

    await update(token, patient.id, { name: { given: ['Ada'], family: 'Byron' } });

    const { body: found } = await harness.graphql<{ patients: { totalCount: number } }>(
      SEARCH_PATIENTS,
      { search: 'byron' },
      token,
    );
    const { body: gone } = await harness.graphql<{ patients: { totalCount: number } }>(
      SEARCH_PATIENTS,
      { search: 'lovelace' },
      token,
    );
    assert.equal(found.data?.patients.totalCount, 1);
    assert.equal(gone.data?.patients.totalCount, 0);
  });

  test('invalid update writes nothing', async () => {
    const token = await harness.token(newId());
    const patient = await register(token, adultInput({ email: 'ada@example.org' }));

    // The name is valid and the phone is not: neither may be stored.
    const body = await update(token, patient.id, {
      name: { given: ['Augusta'], family: 'King' },
      phone: '555-0100',
      birthDate: '2999-01-01',
    });
    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), ['input.birthDate', 'input.phone']);

    assert.deepEqual(await read(token, patient.id), patient);
  });

  test('required field cannot be cleared', async () => {
    const token = await harness.token(newId());
    const patient = await register(token, adultInput());

    const body = await update(token, patient.id, { name: null, birthDate: null });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), ['input.birthDate', 'input.name']);
  });

  test('death before stored birth rejected', async () => {
    const token = await harness.token(newId());
    const patient = await register(token, adultInput({ birthDate: '1985-12-10' }));

    const body = await update(token, patient.id, { deceasedAt: '1980-01-01T00:00:00Z' });

    assert.deepEqual(invalidFields(body), ['input.deceasedAt']);
  });

  test('birth date making a minor needs guardian', async () => {
    const token = await harness.token(newId());
    const patient = await register(token, adultInput());

    const body = await update(token, patient.id, { birthDate: birthDateForAge(12) });

    assert.deepEqual(invalidFields(body), ['input.birthDate']);
  });

  test('minor keeps at least one guardian', async () => {
    const token = await harness.token(newId());
    const guardians = [{ name: { given: ['Anne'], family: 'Byron' }, relationship: 'MOTHER' as const }];
    const patient = await register(token, adultInput({ birthDate: birthDateForAge(12), guardians }));

    const body = await update(token, patient.id, { guardians: [] });

    assert.deepEqual(invalidFields(body), ['input.guardians']);
  });

  test('replaces guardians', async () => {
    const token = await harness.token(newId());
    const patient = await register(
      token,
      adultInput({
        birthDate: birthDateForAge(12),
        guardians: [{ name: { given: ['Anne'], family: 'Byron' }, relationship: 'MOTHER' }],
      }),
    );

    const body = await update(token, patient.id, {
      guardians: [{ name: { given: ['George'], family: 'Byron' }, relationship: 'FATHER' }],
    });

    assert.deepEqual(
      body.data?.updatePatient?.guardians.map((guardian) => [guardian.relationship, guardian.name.text]),
      [['FATHER', 'George Byron']],
    );
  });

  test('replaces identifiers keeping unchanged ones', async () => {
    const token = await harness.token(newId());
    const patient = await register(
      token,
      adultInput({
        identifiers: [
          { type: 'PASSPORT', system: 'passport-gb', value: 'P1' },
          { type: 'INSURANCE', system: 'nhs', value: '943 476 5919' },
        ],
      }),
    );

    const body = await update(token, patient.id, {
      identifiers: [
        { type: 'NATIONAL_ID', system: 'nhs', value: '943 476 5919' },
        { type: 'DRIVER_LICENSE', system: 'dvla', value: 'LOVEL812105AA9AA' },
      ],
    });

    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?.updatePatient?.identifiers, [
      { type: 'NATIONAL_ID', system: 'nhs', value: '943 476 5919' },
      { type: 'DRIVER_LICENSE', system: 'dvla', value: 'LOVEL812105AA9AA' },
    ]);
    assert.deepEqual((await read(token, patient.id))?.identifiers, body.data?.updatePatient?.identifiers);
  });

  test('identifier of another patient conflicts', async () => {
    const token = await harness.token(newId());
    await register(
      token,
      adultInput({ identifiers: [{ type: 'PASSPORT', system: 'passport-gb', value: 'P1' }] }),
    );
    const other = await register(token, adultInput({ name: { given: ['Bob'], family: 'Other' } }));

    const body = await update(token, other.id, {
      identifiers: [{ type: 'PASSPORT', system: 'passport-gb', value: 'P1' }],
    });

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.deepEqual((await read(token, other.id))?.identifiers, []);
  });

  test('unknown patient not found', async () => {
    const token = await harness.token(newId());

    const body = await update(token, newId(), { email: 'x@example.org' });

    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
  });

  test('malformed id rejected', async () => {
    const token = await harness.token(newId());

    const body = await update(token, 'not-an-id', { email: 'x@example.org' });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });
});
