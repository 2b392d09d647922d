// Tests the pure parts of the appointment import: reading encounters, naming practitioners and
// resending the batch items that scheduling cannot resolve yet. The import through the real gateway
// is tested in scripts/e2e/appointment-import.e2e.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  encountersOf,
  isParticipantLag,
  npiOf,
  practitionerEmail,
  practitionerName,
  type ImportItemResult,
} from './appointments.js';
import { retryLaggingItems } from './replica-wait.js';

const AUBREY = fileURLToPath(
  new URL('./fixtures/Aubrey96_Kunde533_a793a189-7e7f-48b6-ea63-43036cef8d3d.json', import.meta.url),
);

test('encounters of a Synthea bundle', async () => {
  const bundle = JSON.parse(await readFile(AUBREY, 'utf8'));

  const { records, skipped } = encountersOf(bundle);

  assert.deepEqual(skipped, []);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.encounterId, '14d9c72c-e4a4-8636-dd60-7547ff8ee8ad');
  assert.equal(records[0]!.patientFhirId, 'a793a189-7e7f-48b6-ea63-43036cef8d3d');
  assert.equal(records[0]!.npi, '9999952598');
  assert.equal(records[0]!.startsAt, '2016-12-17T18:51:17+00:00');
  assert.equal(records[0]!.endsAt, '2016-12-17T19:10:01+00:00');
  assert.equal(records[0]!.location, 'CENTER FOR DIGESTIVE WELLNESS PC');
});

test('unfinished and other encounters', () => {
  const patient = { resourceType: 'Patient', id: 'p1', identifier: [] };
  const encounter = (overrides: Record<string, unknown>) => ({
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { code: 'AMB' },
    period: { start: '2020-01-01T10:00:00Z', end: '2020-01-01T10:30:00Z' },
    participant: [
      { individual: { reference: 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|123' } },
    ],
    ...overrides,
  });
  const bundle = {
    resourceType: 'Bundle',
    entry: [
      patient,
      encounter({ status: 'in-progress' }),
      encounter({ class: { code: 'IMP' } }),
      encounter({ participant: [] }),
      encounter({ period: { start: '2020-01-01T10:00:00Z' } }),
    ].map((resource) => ({ resource })),
  };

  const { records, skipped } = encountersOf(bundle);

  assert.deepEqual(records, []);
  assert.deepEqual(skipped, ['not finished', 'no practitioner with an NPI', 'no period']);
});

test('practitioner references and names', () => {
  assert.equal(npiOf('Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999952598'), '9999952598');
  assert.equal(npiOf('Practitioner?identifier=https://example.org/other|9999952598'), undefined);
  assert.equal(npiOf('Practitioner/123'), undefined);
  assert.equal(practitionerEmail('9999952598'), 'npi-9999952598@practitioners.synthea.example');
  assert.deepEqual(practitionerName('Dr. Ulysses632 Ziemann98'), {
    givenName: 'Ulysses632',
    familyName: 'Ziemann98',
  });
  assert.deepEqual(practitionerName('Cher'), { givenName: 'Cher', familyName: 'Practitioner' });
});

const stored = (created: boolean): ImportItemResult => ({ created, appointment: { id: 'a' }, errors: [] });
const rejected = (...codes: string[]): ImportItemResult => ({
  created: false,
  appointment: null,
  errors: codes.map((code) => ({ code, message: `${code} item` })),
});

test('participant lag of batch items', () => {
  assert.equal(isParticipantLag(rejected('UNKNOWN_PARTICIPANT')), true);
  assert.equal(isParticipantLag(rejected('UNKNOWN_PARTICIPANT', 'UNKNOWN_PARTICIPANT')), true);
  assert.equal(isParticipantLag(rejected('UNKNOWN_PARTICIPANT', 'BAD_USER_INPUT')), false);
  assert.equal(isParticipantLag(rejected('CONFLICT')), false);
  assert.equal(isParticipantLag(stored(true)), false);
});

test('lagging batch items are resent alone', async () => {
  const sent: string[][] = [];
  const waits: number[] = [];
  // Items b and d are unknown on the first attempt and known on the second; c is invalid.
  const outcomes: Record<string, ImportItemResult[]> = {
    a: [stored(true)],
    b: [rejected('UNKNOWN_PARTICIPANT'), stored(true)],
    c: [rejected('BAD_USER_INPUT')],
    d: [rejected('UNKNOWN_PARTICIPANT'), stored(false)],
  };

  const results = await retryLaggingItems(
    ['a', 'b', 'c', 'd'],
    async (items) => {
      sent.push(items);
      return items.map((item) => outcomes[item]!.shift()!);
    },
    isParticipantLag,
    { waitMs: 5_000, onFirstWait: (count) => waits.push(count) },
  );

  assert.deepEqual(sent, [
    ['a', 'b', 'c', 'd'],
    ['b', 'd'],
  ]);
  assert.deepEqual(waits, [2]);
  assert.deepEqual(
    results.map((result) => [result.created, result.errors.map((error) => error.code)]),
    [
      [true, []],
      [true, []],
      [false, ['BAD_USER_INPUT']],
      [false, []],
    ],
  );
});

test('lagging batch items stop after waitMs', async () => {
  let attempts = 0;

  const results = await retryLaggingItems(
    ['a', 'b'],
    async (items) => {
      attempts++;
      return items.map((item) => (item === 'a' ? stored(true) : rejected('UNKNOWN_PARTICIPANT')));
    },
    isParticipantLag,
    { waitMs: 0 },
  );

  assert.equal(attempts, 1);
  assert.equal(results[0]!.created, true);
  assert.deepEqual(
    results[1]!.errors.map((error) => error.code),
    ['UNKNOWN_PARTICIPANT'],
  );
});
