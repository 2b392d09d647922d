import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listBundleFiles, readPatients } from './bundles.js';
import {
  isMinor,
  mapPatient,
  MINOR_WITHOUT_GUARDIAN,
  SYNTHEA_IDENTIFIER_SYSTEM,
  toE164,
  type FhirPatient,
  type PatientMapping,
} from './mapping.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
// The fixtures were generated with reference date 2026-12-01; "now" is fixed
// so that ages, and so who is a minor, do not change as time passes.
const NOW = new Date('2026-12-04T12:00:00Z');
const ADAN_ID = 'a08c883f-bdbd-7d0b-158d-17a69e78337b';
const AUBREY_ID = 'a793a189-7e7f-48b6-ea63-43036cef8d3d';

async function fixturePatients(): Promise<Map<string, FhirPatient>> {
  const patients = new Map<string, FhirPatient>();
  for await (const item of readPatients(await listBundleFiles([FIXTURES]))) {
    assert.equal(item.kind, 'patient');
    if (item.kind === 'patient') patients.set(String(item.patient.id), item.patient);
  }
  return patients;
}

async function fixturePatient(id: string): Promise<FhirPatient> {
  const patient = (await fixturePatients()).get(id);
  assert.ok(patient, `fixture patient ${id}`);
  return structuredClone(patient);
}

function mapped(result: PatientMapping) {
  assert.equal(result.outcome, 'mapped', JSON.stringify(result));
  return result as Extract<PatientMapping, { outcome: 'mapped' }>;
}

test('listBundleFiles leaves out the hospital bundle', async () => {
  const files = await listBundleFiles([FIXTURES]);
  assert.equal(files.length, 5);
  assert.ok(files.every((file) => !basename(file).startsWith('hospitalInformation')));
  assert.deepEqual(files, [...files].sort());
});

test('readPatients yields only the Patient resources of each bundle', async () => {
  const patients = await fixturePatients();
  assert.equal(patients.size, 5);
  assert.ok([...patients.values()].every((patient) => patient.resourceType === 'Patient'));
});

test('readPatients reports unreadable files and continues', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'fhir-import-'));
  try {
    await writeFile(join(folder, 'a-broken.json'), '{"resourceType": "Bundle", "entry": [');
    await writeFile(join(folder, 'b-other.json'), '{"resourceType": "Observation"}');
    await writeFile(join(folder, 'c-patient.json'), JSON.stringify({ resourceType: 'Patient', id: 'p1' }));
    const items = [];
    for await (const item of readPatients(await listBundleFiles([folder]))) items.push(item);
    assert.deepEqual(
      items.map((item) => item.kind),
      ['unreadable', 'unreadable', 'patient'],
    );
    assert.match((items[0] as { reason: string }).reason, /cannot read JSON/);
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('maps a Synthea patient to RegisterPatientInput', async () => {
  const result = mapped(mapPatient(await fixturePatient(ADAN_ID), { now: NOW }));
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(result.input, {
    name: { given: ['Adán600', 'Joaquín233'], family: 'Delrío329', prefix: ['Mr.'] },
    sex: 'MALE',
    birthDate: '1956-05-10',
    phone: '+15558528216',
    address: {
      lines: ['699 Schiller Row Unit 54'],
      city: 'Norwood',
      state: 'MA',
      postalCode: '02090',
      country: 'US',
    },
    identifiers: [
      { type: 'EXTERNAL', system: SYNTHEA_IDENTIFIER_SYSTEM, value: ADAN_ID },
      { type: 'NATIONAL_ID', system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-14-7102' },
      { type: 'DRIVER_LICENSE', system: 'urn:oid:2.16.840.1.113883.4.3.25', value: 'S99981909' },
      { type: 'PASSPORT', system: 'http://hl7.org/fhir/sid/passport-USA', value: 'X15133172X' },
    ],
  });
});

test('maps all fixture patients without warnings or source MRN', async () => {
  for (const patient of (await fixturePatients()).values()) {
    const result = mapped(mapPatient(patient, { now: NOW }));
    assert.deepEqual(result.warnings, []);
    assert.equal(result.fhirId, patient.id);
    assert.match(result.input.phone ?? '', /^\+1555\d{7}$/);
    assert.ok(
      !result.input.identifiers?.some(
        (identifier) => identifier.system === 'http://hospital.smarthealthit.org',
      ),
    );
    assert.equal(result.input.guardians, undefined);
  }
});

test('takes the official name over the maiden name', async () => {
  const result = mapped(
    mapPatient(await fixturePatient('c07a6f3b-a008-257b-36bf-52faa0580281'), { now: NOW }),
  );
  assert.deepEqual(result.input.name, {
    given: ['Amiee221', 'Dennise990'],
    family: 'Borer986',
    prefix: ['Mrs.'],
  });
  assert.equal(result.input.sex, 'FEMALE');
});

test('maps FHIR gender codes to AdministrativeSex', async () => {
  const patient = await fixturePatient(ADAN_ID);
  const expected = { male: 'MALE', female: 'FEMALE', other: 'OTHER', unknown: 'UNKNOWN' } as const;
  for (const [gender, sex] of Object.entries(expected)) {
    const result = mapped(mapPatient({ ...patient, gender }, { now: NOW }));
    assert.equal(result.input.sex, sex);
    assert.deepEqual(result.warnings, []);
  }
  const missing = mapped(mapPatient({ ...patient, gender: undefined }, { now: NOW }));
  assert.equal(missing.input.sex, 'UNKNOWN');
  assert.deepEqual(missing.warnings, ['no gender; registered as UNKNOWN']);
});

test('converts deceasedDateTime to a UTC instant', async () => {
  const patient = await fixturePatient(ADAN_ID);
  const result = mapped(
    mapPatient({ ...patient, deceasedDateTime: '2020-03-04T05:06:07-05:00' }, { now: NOW }),
  );
  assert.equal(result.input.deceasedAt, '2020-03-04T10:06:07.000Z');
  const withoutDate = mapPatient({ ...patient, deceasedBoolean: true }, { now: NOW });
  assert.equal(withoutDate.outcome, 'invalid');
});

test('phone: impossible numbers dropped with a warning', async () => {
  const patient = await fixturePatient(ADAN_ID);
  const onlyImpossible = mapped(
    mapPatient({ ...patient, telecom: [{ system: 'phone', value: '12', use: 'home' }] }, { now: NOW }),
  );
  assert.equal(onlyImpossible.input.phone, undefined);
  assert.deepEqual(onlyImpossible.warnings, ['phone "12" is not a possible phone number; dropped']);

  const telecom = [
    { system: 'phone', value: '555-000-0001', use: 'old' },
    { system: 'phone', value: '1', use: 'mobile' },
    { system: 'phone', value: '(555) 123-4567', use: 'home' },
    { system: 'email', value: 'adan@example.org' },
  ];
  const result = mapped(mapPatient({ ...patient, telecom }, { now: NOW }));
  assert.equal(result.input.phone, '+15551234567');
  assert.equal(result.input.email, 'adan@example.org');
  assert.equal(result.warnings.length, 1);
});

test('rejects patients without a usable name or full birth date', async () => {
  const patient = await fixturePatient(ADAN_ID);
  assert.equal(mapPatient({ ...patient, name: [{ given: ['Only'] }] }, { now: NOW }).outcome, 'invalid');
  assert.equal(mapPatient({ ...patient, birthDate: '1956' }, { now: NOW }).outcome, 'invalid');
  assert.equal(mapPatient({ ...patient, birthDate: '1956-02-30' }, { now: NOW }).outcome, 'invalid');
  assert.equal(mapPatient({ ...patient, birthDate: undefined }, { now: NOW }).outcome, 'invalid');
  const noId = mapPatient({ resourceType: 'Patient' }, { now: NOW });
  assert.deepEqual(noId, {
    outcome: 'invalid',
    fhirId: undefined,
    reason: 'Patient has neither an id nor a Synthea identifier',
  });
});

test('maps other identifier types and drops those without a system', async () => {
  const patient = await fixturePatient(ADAN_ID);
  const identifier = [
    {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MB' }] },
      system: 'urn:payer',
      value: 'M1',
    },
    { system: 'urn:local', value: 'L1' },
    {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
      value: '999-00-0000',
    },
  ];
  const result = mapped(mapPatient({ ...patient, identifier }, { now: NOW }));
  assert.deepEqual(result.input.identifiers, [
    { type: 'EXTERNAL', system: SYNTHEA_IDENTIFIER_SYSTEM, value: ADAN_ID },
    { type: 'INSURANCE', system: 'urn:payer', value: 'M1' },
    { type: 'OTHER', system: 'urn:local', value: 'L1' },
  ]);
  assert.deepEqual(result.warnings, ['identifier of type SS has no system; dropped']);
});

test('skips minors without a contact', async () => {
  // Aubrey96 was born on 2000-11-04, so is 17 the day before his 18th birthday.
  const patient = await fixturePatient(AUBREY_ID);
  assert.deepEqual(mapPatient(patient, { now: new Date('2018-11-03T23:59:59Z') }), {
    outcome: 'skipped',
    fhirId: AUBREY_ID,
    reason: MINOR_WITHOUT_GUARDIAN,
  });
  assert.equal(mapPatient(patient, { now: new Date('2018-11-04T00:00:00Z') }).outcome, 'mapped');
});

test('maps a minor who died without a guardian', async () => {
  const patient = { ...(await fixturePatient(AUBREY_ID)), deceasedDateTime: '2010-01-01T00:00:00Z' };
  const result = mapPatient(patient, { now: new Date('2018-11-03T23:59:59Z') });
  assert.equal(result.outcome, 'mapped');
  assert.equal(result.outcome === 'mapped' ? result.input.guardians : 'not mapped', undefined);
});

test('builds guardians of a minor from Patient.contact, parents first', async () => {
  const patient = await fixturePatient(AUBREY_ID);
  patient.contact = [
    {
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C' }] }],
      name: { family: 'Neighbour1', given: ['Nina1'] },
    },
    {
      relationship: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] },
      ],
      name: { family: 'Kunde533', given: ['Mary1'] },
      telecom: [
        { system: 'phone', value: '555-222-3333' },
        { system: 'email', value: 'mary@example.org' },
      ],
    },
    { relationship: [{ coding: [{ code: 'FTH' }] }], name: { given: ['No family name'] } },
  ];
  const result = mapped(mapPatient(patient, { now: new Date('2010-01-01T00:00:00Z') }));
  assert.deepEqual(result.input.guardians, [
    {
      name: { given: ['Mary1'], family: 'Kunde533' },
      relationship: 'MOTHER',
      phone: '+15552223333',
      email: 'mary@example.org',
    },
    { name: { given: ['Nina1'], family: 'Neighbour1' }, relationship: 'OTHER' },
  ]);
});

test('isMinor counts whole years on the UTC date', () => {
  assert.equal(isMinor('2008-12-04', NOW), false);
  assert.equal(isMinor('2008-12-05', NOW), true);
  // Someone born on 29 February comes of age on 1 March in a common year.
  assert.equal(isMinor('2008-02-29', new Date('2026-02-28T23:00:00Z')), true);
  assert.equal(isMinor('2008-02-29', new Date('2026-03-01T00:00:00Z')), false);
});

test('toE164 reads numbers without a country code as US numbers', () => {
  assert.equal(toE164('555-123-4567'), '+15551234567');
  assert.equal(toE164('+44 20 7946 0958'), '+442079460958');
  assert.equal(toE164('123'), undefined);
  assert.equal(toE164('not a number'), undefined);
});
