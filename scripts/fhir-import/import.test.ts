// Tests the importer's GraphQL client side against the in-memory stand-in
// gateway. The end-to-end test against the real gateway lives elsewhere.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError } from 'graphql';
import { ALREADY_IMPORTED, importFhir, ImportFatalError, type ImportOptions } from './import.js';
import { MINOR_WITHOUT_GUARDIAN, SYNTHEA_IDENTIFIER_SYSTEM, type RegisterPatientInput } from './mapping.js';
import { COUNT_KEYS, DIAGNOSIS_COUNT_KEY, PATIENT_NOT_IMPORTED } from './history-import.js';
import { StandInGateway } from './stand-in-gateway.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const NOW = new Date('2026-12-04T12:00:00Z');
const ADAN_FILE = join(FIXTURES, 'Adán600_Delrío329_a08c883f-bdbd-7d0b-158d-17a69e78337b.json');
const ADAN_ID = 'a08c883f-bdbd-7d0b-158d-17a69e78337b';

let gateway: StandInGateway;
let url: string;
let log: string[];

beforeEach(async () => {
  gateway = new StandInGateway();
  url = await gateway.start();
  log = [];
});

afterEach(async () => {
  await gateway.stop();
});

function options(overrides: Partial<ImportOptions> = {}): ImportOptions {
  return {
    gatewayUrl: url,
    tenantSlug: gateway.tenantSlug,
    email: gateway.email,
    password: gateway.password,
    paths: [FIXTURES],
    now: NOW,
    retryBaseDelayMs: 1,
    log: (line) => log.push(line),
    ...overrides,
  };
}

/** Writes a bundle holding the given patients into a fresh folder and returns the folder. */
async function bundleFolder(patients: unknown[]): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'fhir-import-'));
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: patients.map((resource) => ({ resource })),
  };
  await writeFile(join(folder, 'bundle.json'), JSON.stringify(bundle));
  return folder;
}

async function adan(): Promise<Record<string, unknown>> {
  const bundle = JSON.parse(await readFile(ADAN_FILE, 'utf8')) as {
    entry: { resource: Record<string, unknown> }[];
  };
  const patient = bundle.entry.find((entry) => entry.resource.resourceType === 'Patient')?.resource;
  assert.ok(patient);
  return patient;
}

function counts(created: number, alreadyImported = 0) {
  return { created, alreadyImported, skipped: 0, failed: 0, skippedReasons: {} };
}

test('registers every fixture patient and creates nothing on a second run', async () => {
  const first = await importFhir(options());
  assert.deepEqual(first, {
    read: 5,
    created: 5,
    skipped: 0,
    failed: 0,
    warnings: 0,
    skippedReasons: {},
    failures: [],
    resources: {
      Encounter: counts(5),
      Condition: counts(4),
      [DIAGNOSIS_COUNT_KEY]: counts(4),
      Observation: counts(0),
      AllergyIntolerance: counts(0),
      MedicationRequest: counts(0),
    },
    practitionersCreated: 0,
  });
  assert.equal(gateway.patients.length, 5);
  const stored = gateway.findByIdentifier(SYNTHEA_IDENTIFIER_SYSTEM, ADAN_ID);
  assert.equal(stored?.input.phone, '+15558528216');
  assert.equal(stored?.input.name.family, 'Delrío329');
  assert.ok(log.some((line) => line.startsWith('5 read, 5 created')));

  const second = await importFhir(options({ concurrency: 2 }));
  assert.equal(second.created, 0);
  assert.equal(second.skipped, 5);
  assert.deepEqual(second.skippedReasons, { [ALREADY_IMPORTED]: 5 });
  assert.equal(gateway.patients.length, 5);
  assert.deepEqual(second.resources.Encounter, counts(0, 5));
  assert.deepEqual(second.resources.Condition, counts(0, 4));
  assert.deepEqual(second.resources[DIAGNOSIS_COUNT_KEY], counts(0, 4));
  assert.equal(gateway.records.get('openEncounter')?.size, 5);
});

test('retries HTTP 5xx answers with back-off', async () => {
  gateway.failNext = { count: 3, status: 503 };
  const summary = await importFhir(options({ paths: [ADAN_FILE] }));
  assert.equal(summary.created, 1);
  assert.equal(log.filter((line) => /^HTTP_503: .*retry \d\/4/.test(line)).length, 3);
});

test('waits out rate limits without spending attempts', async () => {
  gateway.failNext = { count: 3, status: 429 };
  const summary = await importFhir(options({ paths: [ADAN_FILE], maxAttempts: 2 }));
  assert.equal(summary.created, 1);
  assert.equal(summary.failed, 0);
  assert.equal(log.filter((line) => line.startsWith('RATE_LIMITED: ')).length, 1);
});

test('counts a patient whose registration keeps failing as failed and goes on', async () => {
  let attempts = 0;
  gateway.beforeRegister = (input) => {
    if (input.name.family !== 'Delrío329') return;
    attempts++;
    throw new GraphQLError('database is down', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
  const summary = await importFhir(options({ maxAttempts: 2 }));
  assert.equal(summary.created, 4);
  assert.equal(attempts, 2);
  assert.deepEqual(summary.failures, [
    { file: ADAN_FILE, fhirId: ADAN_ID, reason: 'INTERNAL_SERVER_ERROR: database is down' },
  ]);
});

test('renews an expired access token once for all concurrent requests', async () => {
  const folder = await bundleFolder(
    Array.from({ length: 12 }, (_, index) => ({
      resourceType: 'Patient',
      id: `patient-${index}`,
      name: [{ use: 'official', family: `Family${index}`, given: ['Given'] }],
      gender: 'female',
      birthDate: '1980-01-01',
    })),
  );
  try {
    let registered = 0;
    gateway.beforeRegister = () => {
      if (++registered === 4) gateway.expireAccessTokens();
    };
    const summary = await importFhir(options({ paths: [folder], concurrency: 4 }));
    assert.equal(summary.created, 12);
    assert.equal(gateway.operations.filter((operation) => operation === 'refreshSession').length, 1);
    assert.equal(gateway.operations.filter((operation) => operation === 'login').length, 1);
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('logs in again when the refresh token is rejected too', async () => {
  gateway.beforeRegister = () => {
    gateway.expireAccessTokens();
    gateway.revokeRefreshTokens();
    gateway.beforeRegister = undefined;
  };
  const summary = await importFhir(options());
  assert.equal(summary.created, 5);
  assert.deepEqual(
    gateway.operations.filter((operation) => operation === 'login' || operation === 'refreshSession'),
    ['login', 'refreshSession', 'login'],
  );
});

test('renews the session before sending a token that is about to expire', async () => {
  gateway.accessTokenTtlMs = 5_000;
  const summary = await importFhir(options({ paths: [ADAN_FILE] }));
  assert.equal(summary.created, 1);
  assert.ok(gateway.operations.includes('refreshSession'));
});

test('stops with ImportFatalError when the login is rejected', async () => {
  await assert.rejects(importFhir(options({ password: 'wrong' })), (error: unknown) => {
    assert.ok(error instanceof ImportFatalError);
    assert.match(error.message, /cannot log in .* invalid credentials/);
    assert.equal(error.summary.read, 0);
    return true;
  });
});

test('stops with ImportFatalError when the gateway cannot be reached', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  await assert.rejects(
    importFhir(options({ gatewayUrl: `http://127.0.0.1:${closedPort}/graphql`, maxAttempts: 2 })),
    /cannot log in .*ECONNREFUSED/,
  );
});

test('stops with ImportFatalError when the user may not register patients', async () => {
  gateway.forbidRegistration = true;
  await assert.rejects(importFhir(options()), (error: unknown) => {
    assert.ok(error instanceof ImportFatalError);
    assert.match(error.message, /FORBIDDEN/);
    return true;
  });
});

test('counts a CONFLICT from a parallel run as skipped', async () => {
  gateway.beforeRegister = (input: RegisterPatientInput) => {
    gateway.beforeRegister = undefined;
    gateway.store(input);
  };
  const summary = await importFhir(options({ paths: [ADAN_FILE] }));
  assert.equal(summary.created, 0);
  assert.deepEqual(summary.skippedReasons, { [ALREADY_IMPORTED]: 1 });
});

test('counts a CONFLICT on another patient identifier as failed', async () => {
  gateway.store({
    name: { given: ['Other'], family: 'Person' },
    sex: 'MALE',
    birthDate: '1950-01-01',
    identifiers: [{ type: 'NATIONAL_ID', system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-14-7102' }],
  });
  const summary = await importFhir(options({ paths: [ADAN_FILE] }));
  assert.equal(summary.failed, 1);
  assert.deepEqual(summary.failures, [
    {
      file: ADAN_FILE,
      fhirId: ADAN_ID,
      reason: 'CONFLICT: identifier http://hl7.org/fhir/sid/us-ssn|999-14-7102 is already in use',
    },
  ]);
});

test('reports BAD_USER_INPUT as a failure with its message and fields', async () => {
  gateway.beforeRegister = () => {
    throw new GraphQLError('postal code does not match the state', {
      extensions: { code: 'BAD_USER_INPUT', fields: { 'address.postalCode': 'mismatch' } },
    });
  };
  const summary = await importFhir(options({ paths: [ADAN_FILE] }));
  assert.equal(summary.failed, 1);
  assert.equal(
    summary.failures[0]?.reason,
    'BAD_USER_INPUT: postal code does not match the state (fields: {"address.postalCode":"mismatch"})',
  );
});

test('skips minors without a contact, registers those with one, and counts warnings and unreadable files', async () => {
  const patient = await adan();
  const folder = await bundleFolder([
    { ...patient, id: 'child-without-contact', identifier: [], birthDate: '2015-06-01' },
    {
      ...patient,
      id: 'child-with-contact',
      identifier: [],
      birthDate: '2015-06-01',
      telecom: [{ system: 'phone', value: '12' }],
      contact: [
        { relationship: [{ coding: [{ code: 'FTH' }] }], name: { family: 'Delrío329', given: ['Pedro1'] } },
      ],
    },
    { ...patient, id: 'no-birth-date', identifier: [], birthDate: undefined },
  ]);
  await writeFile(join(folder, 'zz-broken.json'), '{');
  try {
    const summary = await importFhir(options({ paths: [folder] }));
    assert.equal(summary.read, 3);
    assert.equal(summary.created, 1);
    assert.equal(summary.warnings, 1);
    assert.deepEqual(summary.skippedReasons, { [MINOR_WITHOUT_GUARDIAN]: 1 });
    const failures = summary.failures.map((failure) => [failure.fhirId, failure.reason]);
    assert.equal(failures.length, 2);
    assert.deepEqual(failures[0], ['no-birth-date', 'Patient has no birthDate']);
    assert.equal(failures[1]?.[0], null);
    assert.match(failures[1]?.[1] ?? '', /^cannot read JSON: /);
    const child = gateway.findByIdentifier(SYNTHEA_IDENTIFIER_SYSTEM, 'child-with-contact');
    assert.deepEqual(child?.input.guardians, [
      { name: { given: ['Pedro1'], family: 'Delrío329' }, relationship: 'FATHER' },
    ]);
    assert.equal(child?.input.phone, undefined);
  } finally {
    await rm(folder, { recursive: true });
  }
});

const HISTORY_FIXTURES = fileURLToPath(new URL('./history-fixtures/', import.meta.url));
const ERNESTO_FILE = join(HISTORY_FIXTURES, 'Ernesto186_Hudson301_f328481a-382e-8e88-7b88-6b49d8ca2b11.json');
const HISTORY_NOW = new Date('2026-12-05T00:00:00Z');

test('links history records to their encounter and stays in one import ward', async () => {
  const summary = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  assert.equal(summary.created, 1);
  assert.deepEqual(summary.resources.Encounter, {
    created: 22,
    alreadyImported: 0,
    skipped: 0,
    failed: 0,
    skippedReasons: {},
  });
  assert.equal(summary.resources.AllergyIntolerance?.created, 8);
  // Ernesto's 7 stopped MedicationRequests are history, recorded with or without a dose. His 2
  // active ones give no dose, and clinical requires one to order a drug.
  assert.equal(summary.resources.MedicationRequest?.created, 7);
  assert.equal(summary.resources.MedicationRequest?.skipped, 2);
  assert.ok(
    Object.keys(summary.resources.MedicationRequest?.skippedReasons ?? {}).every((reason) =>
      /dose/.test(reason),
    ),
  );
  assert.equal(gateway.wards.length, 1);
  assert.equal(gateway.wards[0]?.code, 'IMPORTED');

  const stay = gateway.records
    .get('recordPastAdmission')
    ?.get('synthea:Encounter/0c22559c-8736-0a19-cc3a-a6b809323f47');
  assert.equal(stay?.input.wardId, gateway.wards[0]?.id);
  const encounterIds = new Set(
    [...(gateway.records.get('openEncounter')?.values() ?? []), stay].map((record) => record?.id),
  );
  const panels = [...(gateway.records.get('recordVitalSigns')?.values() ?? [])];
  assert.ok(panels.length > 0);
  assert.ok(panels.every((panel) => encounterIds.has(panel.input.encounterId as string)));
  const problems = [...(gateway.records.get('addProblem')?.values() ?? [])];
  assert.ok(problems.some((problem) => encounterIds.has(problem.input.encounterId as string)));

  // 22 encounters in 2 batches of at most 15, then 21 problems, 7 panels, 8 allergies and 7
  // prescriptions in 3, after login, the patient lookup, the registration, and the lookup and
  // creation of the ward.
  const creates = [...gateway.records.values()].reduce((total, records) => total + records.size, 0);
  assert.equal(creates, 65);
  const prescriptions = [...(gateway.records.get('issuePrescription')?.values() ?? [])];
  assert.ok(prescriptions.some((prescription) => prescription.input.dose === undefined));
  assert.ok(prescriptions.every((prescription) => prescription.input.status !== 'ACTIVE'));
  assert.equal(gateway.requests, 5 + 2 + 3);
});

test('credits encounters to their practitioner', async () => {
  const practitionerAccount = { email: gateway.email, password: gateway.password };
  // Clinical rejects a practitioner it has not yet copied from identity's events; the first two
  // encounters naming one meet that delay.
  let lagging = 2;
  gateway.beforeCreate = (mutation, input) => {
    if (input.attendingId === undefined || lagging <= 0) return;
    if (mutation !== 'openEncounter' && mutation !== 'recordPastAdmission') return;
    lagging--;
    throw new GraphQLError('Invalid input.', {
      extensions: {
        code: 'BAD_USER_INPUT',
        fields: [{ field: 'input.attendingId', message: 'is not an active user of this tenant' }],
      },
    });
  };

  const first = await importFhir(
    options({ paths: [ERNESTO_FILE], now: HISTORY_NOW, practitionerAccount, replicaWaitMs: 10_000 }),
  );

  assert.equal(lagging, 0);
  assert.equal(first.resources.Encounter?.created, 22);
  assert.equal(first.resources.Encounter?.failed, 0);
  assert.ok(first.practitionersCreated > 0);
  assert.equal(first.practitionersCreated, gateway.users.length);
  assert.ok(gateway.users.every((user) => /^npi-\d+@practitioners\.synthea\.example$/.test(user.email)));
  assert.ok(gateway.users.every((user) => user.roles.join() === 'doctor'));
  const encounters = [
    ...(gateway.records.get('openEncounter')?.values() ?? []),
    ...(gateway.records.get('recordPastAdmission')?.values() ?? []),
  ];
  const userIds = new Set(gateway.users.map((user) => user.id));
  assert.ok(encounters.every((encounter) => userIds.has(encounter.input.attendingId as string)));
  const stay = gateway.records
    .get('recordPastAdmission')
    ?.get('synthea:Encounter/0c22559c-8736-0a19-cc3a-a6b809323f47');
  const koch = gateway.users.find((user) => user.id === stay?.input.attendingId);
  assert.equal(koch?.email, 'npi-9999877597@practitioners.synthea.example');
  assert.equal(koch?.familyName, 'Koch169');
  assert.ok(log.some((line) => line.startsWith('waiting for clinical to learn of the attending')));

  const second = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW, practitionerAccount }));
  assert.equal(second.practitionersCreated, 0);
  assert.equal(gateway.users.length, first.practitionersCreated);
});

test('encounters keep the importer without a practitioner account', async () => {
  await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));

  const encounters = [...(gateway.records.get('openEncounter')?.values() ?? [])];
  assert.ok(encounters.length > 0);
  assert.ok(encounters.every((encounter) => encounter.input.attendingId === undefined));
  assert.equal(gateway.users.length, 0);
});

test('second history run sends no create', async () => {
  const first = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  const createsBefore = gateway.operations.length;
  const second = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));

  for (const key of COUNT_KEYS) {
    assert.equal(second.resources[key]?.created, 0, key);
    assert.equal(second.resources[key]?.alreadyImported, first.resources[key]?.created, key);
  }
  const secondRun = gateway.operations.slice(createsBefore);
  assert.deepEqual(
    secondRun.filter((operation) => gateway.records.has(operation)),
    [],
  );
});

test('counts records of a parallel run as already imported', async () => {
  await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  // Forgetting the patient makes the next run register it again and send
  // every create, as a run that started before the first one finished would.
  const [patient] = gateway.patients.splice(0, 1);
  assert.ok(patient);
  const second = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  assert.equal(second.resources.Encounter?.created, 0);
  assert.equal(second.resources.Encounter?.alreadyImported, 22);
  assert.equal(second.resources.AllergyIntolerance?.alreadyImported, 8);
  assert.equal(second.resources.Condition?.alreadyImported, 21);
});

test('counts a rejected create without losing the rest of its batch', async () => {
  gateway.beforeCreate = (mutation, input) => {
    if (mutation === 'recordAllergy' && input.category === 'FOOD') {
      throw new GraphQLError('Invalid input. substance: unknown', {
        extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'substance', message: 'unknown' }] },
      });
    }
  };
  const summary = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  assert.equal(summary.resources.AllergyIntolerance?.created, 7);
  assert.deepEqual(summary.resources.AllergyIntolerance?.skippedReasons, {
    'rejected by the API: BAD_USER_INPUT: substance: unknown': 1,
  });
  assert.equal(summary.resources.Condition?.created, 21);
  assert.equal(summary.resources.Condition?.alreadyImported, 0);
  assert.equal(gateway.records.get('recordAllergy')?.size, 7);
});

test('vitals panel drops a rejected value', async () => {
  let rejections = 0;
  gateway.beforeCreate = (mutation, input) => {
    if (mutation !== 'recordVitalSigns' || input.heartRate === undefined) return;
    rejections++;
    throw new GraphQLError('Invalid input. heartRate.value: must be between 20 and 300 /min', {
      extensions: {
        code: 'BAD_USER_INPUT',
        fields: [{ field: 'heartRate.value', message: 'must be between 20 and 300 /min' }],
      },
    });
  };
  const summary = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  const observations = summary.resources.Observation;
  assert.ok(rejections > 0);
  assert.equal(
    observations?.skippedReasons[
      'rejected by the API: BAD_USER_INPUT: heartRate.value: must be between N and N /min'
    ],
    rejections,
  );
  const panels = [...(gateway.records.get('recordVitalSigns')?.values() ?? [])];
  assert.ok(panels.every((panel) => panel.input.heartRate === undefined));
  assert.ok(panels.some((panel) => panel.input.bloodPressure !== undefined));
  assert.ok(
    log.some((line) => /^skipped: Patient\/f328481a\S* Observation\/\S+: BAD_USER_INPUT: /.test(line)),
  );
});

test('import ward grows when full', async () => {
  let rejected = false;
  gateway.beforeCreate = (mutation) => {
    if (mutation !== 'recordPastAdmission' || rejected) return;
    rejected = true;
    throw new GraphQLError('Ward IMPORTED has no bed free over the whole stay; add a bed or name one.', {
      extensions: { code: 'CONFLICT', reason: 'NO_FREE_BED' },
    });
  };
  const summary = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  assert.equal(summary.resources.Encounter?.created, 22);
  assert.equal(gateway.wards[0]?.beds.length, 20);
  assert.equal(gateway.operations.filter((operation) => operation === 'addBeds').length, 1);
});

test('counts the history of a patient left out as skipped', async () => {
  const bundle = JSON.parse(await readFile(ERNESTO_FILE, 'utf8')) as {
    entry: { resource: Record<string, unknown> }[];
  };
  const patient = bundle.entry.find((entry) => entry.resource.resourceType === 'Patient');
  assert.ok(patient);
  patient.resource.birthDate = '2015-06-01';
  const folder = await bundleFolder(bundle.entry.map((entry) => entry.resource));
  try {
    const summary = await importFhir(options({ paths: [folder], now: HISTORY_NOW }));
    assert.equal(summary.created, 0);
    const reason = `${PATIENT_NOT_IMPORTED}: ${MINOR_WITHOUT_GUARDIAN}`;
    assert.equal(summary.resources.Encounter?.skippedReasons[reason], 22);
    assert.equal(summary.resources.AllergyIntolerance?.skippedReasons[reason], 8);
    assert.equal(gateway.records.size, 0);
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('sends a stay again when a concurrent stay took its bed', async () => {
  let rejected = false;
  gateway.beforeCreate = (mutation) => {
    if (mutation !== 'recordPastAdmission' || rejected) return;
    rejected = true;
    throw new GraphQLError('The bed is occupied during that time by another stay.', {
      extensions: { code: 'CONFLICT', reason: 'BED_OCCUPIED' },
    });
  };
  const summary = await importFhir(options({ paths: [ERNESTO_FILE], now: HISTORY_NOW }));
  assert.equal(summary.resources.Encounter?.created, 22);
  assert.equal(gateway.operations.filter((operation) => operation === 'addBeds').length, 0);
  assert.equal(gateway.operations.filter((operation) => operation === 'recordPastAdmission').length, 2);
});
