import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  adultInput,
  birthDateForAge,
  GET_PATIENT,
  invalidFields,
  messageFor,
  REGISTER_PATIENT,
  SEARCH_PATIENTS,
} from '../../testing/fixtures.js';
import type { PatientIdentifierInput, RegisterPatientInput } from '../inputs.js';

interface Registered {
  registerPatient: { id: string; mrn: string; isMinor: boolean; [field: string]: unknown } | null;
}

describe('registerPatient', () => {
  let harness: ClinicalHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  test('stores full demographics', async () => {
    const token = await harness.token(newId());
    const input: RegisterPatientInput = {
      name: { given: ['María', 'José'], family: 'García López', prefix: ['Dr.'], suffix: ['Jr.'] },
      sex: 'FEMALE',
      genderIdentity: 'woman',
      birthDate: '1970-02-28',
      deceasedAt: new Date('2024-03-01T10:15:00Z'),
      phone: '+34 612 34 56 78',
      email: 'maria.garcia@example.org',
      address: {
        lines: ['Calle Mayor 1', '2º B'],
        city: 'Madrid',
        district: 'Centro',
        state: 'Madrid',
        postalCode: '28013',
        country: 'ES',
      },
      identifiers: [
        { type: 'NATIONAL_ID', system: 'urn:oid:2.16.724.4.40', value: '12345678Z' },
        { type: 'INSURANCE', system: 'sanitas', value: 'SAN-99' },
      ],
    };

    const { body } = await harness.graphql<Registered>(REGISTER_PATIENT, { input }, token);
    assert.equal(body.errors, undefined);
    const patient = body.data!.registerPatient!;

    const { body: read } = await harness.graphql<{ patient: unknown }>(
      GET_PATIENT,
      { id: patient.id },
      token,
    );
    assert.deepEqual(read.data?.patient, patient);
    assert.equal(patient.mrn, 'MRN-000001');
    assert.deepEqual(patient.name, {
      given: ['María', 'José'],
      family: 'García López',
      prefix: ['Dr.'],
      suffix: ['Jr.'],
      text: 'Dr. María José García López Jr.',
    });
    assert.equal(patient.sex, 'FEMALE');
    assert.equal(patient.genderIdentity, 'woman');
    assert.equal(patient.birthDate, '1970-02-28');
    assert.equal(patient.deceasedAt, '2024-03-01T10:15:00.000Z');
    assert.equal(patient.phone, '+34612345678');
    assert.equal(patient.email, 'maria.garcia@example.org');
    assert.deepEqual(patient.address, input.address);
    assert.deepEqual(patient.identifiers, input.identifiers);
    assert.deepEqual(patient.guardians, []);
    assert.equal(patient.isMinor, false);
    assert.equal(patient.ageOfMajority, 18);
  });

  const invalidCases: { name: string; input: Partial<RegisterPatientInput>; field: string }[] = [
    { name: 'birth date in the future', input: { birthDate: '2999-01-01' }, field: 'input.birthDate' },
    { name: 'birth date before 1880', input: { birthDate: '1879-12-31' }, field: 'input.birthDate' },
    {
      name: 'death before birth',
      input: { birthDate: '1990-05-01', deceasedAt: new Date('1990-04-01T00:00:00Z') },
      field: 'input.deceasedAt',
    },
    {
      name: 'death in the future',
      input: { deceasedAt: new Date(Date.now() + 86_400_000) },
      field: 'input.deceasedAt',
    },
    { name: 'phone without country code', input: { phone: '020 7946 0958' }, field: 'input.phone' },
    { name: 'phone too short', input: { phone: '+44 12' }, field: 'input.phone' },
    { name: 'malformed email', input: { email: 'ada.example.org' }, field: 'input.email' },
    {
      name: 'empty family name',
      input: { name: { given: ['Ada'], family: '  ' } },
      field: 'input.name.family',
    },
    { name: 'no given names', input: { name: { given: [], family: 'Lovelace' } }, field: 'input.name.given' },
    {
      name: 'blank given name',
      input: { name: { given: [' '], family: 'Lovelace' } },
      field: 'input.name.given[0]',
    },
    {
      name: 'family name too long',
      input: { name: { given: ['Ada'], family: 'x'.repeat(101) } },
      field: 'input.name.family',
    },
    {
      name: 'gender identity too long',
      input: { genderIdentity: 'x'.repeat(101) },
      field: 'input.genderIdentity',
    },
    {
      name: 'address line too long',
      input: { address: { lines: ['x'.repeat(201)] } },
      field: 'input.address.lines[0]',
    },
    {
      name: 'malformed guardian phone',
      input: {
        guardians: [{ name: { given: ['Anne'], family: 'Byron' }, relationship: 'MOTHER', phone: 'call me' }],
      },
      field: 'input.guardians[0].phone',
    },
    {
      name: 'guardian without family name',
      input: { guardians: [{ name: { given: ['Anne'], family: '' }, relationship: 'MOTHER' }] },
      field: 'input.guardians[0].name.family',
    },
    {
      name: 'duplicate identifiers',
      input: {
        identifiers: [
          { type: 'PASSPORT', system: 'passport-gb', value: 'X1' },
          { type: 'OTHER', system: 'passport-gb', value: 'X1' },
        ],
      },
      field: 'input.identifiers[1]',
    },
    {
      name: 'unknown identifier system format',
      input: { identifiers: [{ type: 'OTHER', system: 'my system!', value: 'X1' }] },
      field: 'input.identifiers[0].system',
    },
    {
      name: 'blank identifier value',
      input: { identifiers: [{ type: 'OTHER', system: 'local', value: ' ' }] },
      field: 'input.identifiers[0].value',
    },
  ];

  for (const invalid of invalidCases) {
    test(`rejects ${invalid.name}`, async () => {
      const token = await harness.token(newId());

      const { body } = await harness.graphql<Registered>(
        REGISTER_PATIENT,
        { input: adultInput(invalid.input) },
        token,
      );

      assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
      assert.deepEqual(invalidFields(body), [invalid.field]);
    });
  }

  test('phone error names expected form', async () => {
    const token = await harness.token(newId());

    const { body } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ phone: '12345' }) },
      token,
    );

    assert.match(messageFor(body, 'input.phone') ?? '', /\+<country code><number>/);
  });

  test('reports every invalid field at once', async () => {
    const token = await harness.token(newId());
    const input = adultInput({
      name: { given: [], family: '' },
      birthDate: '2999-01-01',
      phone: 'x',
      email: 'y',
    });

    const { body } = await harness.graphql<Registered>(REGISTER_PATIENT, { input }, token);

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), [
      'input.birthDate',
      'input.email',
      'input.name.family',
      'input.name.given',
      'input.phone',
    ]);
  });

  test('rejects impossible calendar date', async () => {
    const token = await harness.token(newId());

    const { body } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: '2001-02-29' }) },
      token,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.match(body.errors?.[0]?.message ?? '', /input\.birthDate/);
  });

  test('failed registration writes nothing', async () => {
    const token = await harness.token(newId());

    const failed = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ email: 'nope' }) },
      token,
    );
    assert.deepEqual(errorCodes(failed.body), ['BAD_USER_INPUT']);

    const { body: list } = await harness.graphql<{ patients: { totalCount: number } }>(
      SEARCH_PATIENTS,
      {},
      token,
    );
    assert.equal(list.data?.patients.totalCount, 0);

    // The MRN counter was not advanced either: the first stored patient still gets the first number.
    const { body } = await harness.graphql<Registered>(REGISTER_PATIENT, { input: adultInput() }, token);
    assert.equal(body.data?.registerPatient?.mrn, 'MRN-000001');
  });

  test('minor without guardian rejected', async () => {
    const token = await harness.token(newId());

    const { body } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: birthDateForAge(10) }) },
      token,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), ['input.guardians']);
  });

  test('minor with guardian accepted', async () => {
    const token = await harness.token(newId());
    const input = adultInput({
      birthDate: birthDateForAge(10),
      guardians: [
        {
          name: { given: ['Anne'], family: 'Byron' },
          relationship: 'MOTHER',
          phone: '+44 20 7946 0000',
          email: 'anne@example.org',
        },
      ],
    });

    const { body } = await harness.graphql<Registered>(REGISTER_PATIENT, { input }, token);

    assert.equal(body.errors, undefined);
    const patient = body.data!.registerPatient!;
    assert.equal(patient.isMinor, true);
    const [guardian] = patient.guardians as {
      id: string;
      relationship: string;
      phone: string;
      name: { text: string };
    }[];
    assert.equal(guardian?.relationship, 'MOTHER');
    assert.equal(guardian?.phone, '+442079460000');
    assert.equal(guardian?.name.text, 'Anne Byron');
  });

  test('deceased minor needs no guardian', async () => {
    const token = await harness.token(newId());
    // The DateTime scalar reads this ISO string from the variables; the input type contains the parsed Date.
    const input = { ...adultInput({ birthDate: '1988-06-04' }), deceasedAt: '2003-03-11T14:49:28Z' };

    const { body } = await harness.graphql<Registered>(REGISTER_PATIENT, { input }, token);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.registerPatient?.isMinor, true);
  });

  test('adult on birthday needs no guardian', async () => {
    const token = await harness.token(newId());

    const { body } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: birthDateForAge(18, 0) }) },
      token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(body.data?.registerPatient?.isMinor, false);
  });

  test('tenant age of majority applies', async () => {
    const tenantId = newId();
    const token = await harness.token(tenantId);

    // The tenant sets its age of majority to 21, as identity's tenant events will once they exist.
    const admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    try {
      await admin.query('insert into clinical.tenant_settings (tenant_id, age_of_majority) values ($1, 21)', [
        tenantId,
      ]);
    } finally {
      await admin.end();
    }

    const { body: rejected } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: birthDateForAge(19) }) },
      token,
    );
    assert.deepEqual(invalidFields(rejected), ['input.guardians']);

    const { body } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ birthDate: birthDateForAge(22) }) },
      token,
    );
    assert.equal(body.data?.registerPatient?.ageOfMajority, 21);
    assert.equal(body.data?.registerPatient?.isMinor, false);
  });

  test('identifier of another patient conflicts', async () => {
    const token = await harness.token(newId());
    const identifiers: PatientIdentifierInput[] = [
      { type: 'NATIONAL_ID', system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789' },
    ];

    const first = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ identifiers }) },
      token,
    );
    assert.equal(first.body.data?.registerPatient?.mrn, 'MRN-000001');

    const { body } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ name: { given: ['Bob'], family: 'Other' }, identifiers }) },
      token,
    );
    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.match(body.errors?.[0]?.message ?? '', /urn:oid:2\.16\.840\.1\.113883\.4\.1 123-45-6789/);

    // The rejected registration returned its MRN, so numbers stay gapless.
    const next = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ name: { given: ['Carl'], family: 'Next' } }) },
      token,
    );
    assert.equal(next.body.data?.registerPatient?.mrn, 'MRN-000002');
  });

  test('same identifier in two tenants allowed', async () => {
    const identifiers: PatientIdentifierInput[] = [
      { type: 'PASSPORT', system: 'passport-fr', value: '19AB12345' },
    ];

    const first = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ identifiers }) },
      await harness.token(newId()),
    );
    const second = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ identifiers }) },
      await harness.token(newId()),
    );

    assert.equal(first.body.errors, undefined);
    assert.equal(second.body.errors, undefined);
  });

  test('patientByIdentifier finds patient', async () => {
    const token = await harness.token(newId());
    const identifiers: PatientIdentifierInput[] = [
      { type: 'EXTERNAL', system: 'https://lab.example.org/patients', value: 'L-77' },
    ];
    const { body: registered } = await harness.graphql<Registered>(
      REGISTER_PATIENT,
      { input: adultInput({ identifiers }) },
      token,
    );

    const query =
      'query ($system: String!, $value: String!) { patientByIdentifier(system: $system, value: $value) { id } }';
    const { body: found } = await harness.graphql<{ patientByIdentifier: { id: string } | null }>(
      query,
      { system: 'https://lab.example.org/patients', value: 'L-77' },
      token,
    );
    const { body: missing } = await harness.graphql<{ patientByIdentifier: { id: string } | null }>(
      query,
      { system: 'https://lab.example.org/patients', value: 'L-78' },
      token,
    );

    assert.equal(found.data?.patientByIdentifier?.id, registered.data?.registerPatient?.id);
    assert.equal(missing.data?.patientByIdentifier, null);
  });
});
