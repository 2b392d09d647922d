import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  ADMIT,
  admit,
  createWard,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  type TestTenant,
} from './support.js';

const ENTITIES = `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Encounter { id status } }
  }
`;

describe('tenant isolation of encounters, wards and notes', () => {
  let harness: ClinicalHarness;
  let a: TestTenant;
  let b: TestTenant;
  let patientOfA: string;
  let encounterOfA: string;
  let stayOfA: string;
  let noteOfA: string;
  let summaryOfA: string;
  let diagnosisOfA: string;
  let wardOfA: { id: string; beds: Record<string, string> };

  before(async () => {
    harness = await startHarness();
    a = await newTenant(harness);
    b = await newTenant(harness);
    patientOfA = await registerPatient(harness, a);
    const opened = await ok<{ openEncounter: { id: string; diagnoses: { id: string }[] } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId: patientOfA, diagnoses: [{ text: 'Asthma' }], sourceId: 'shared:Encounter/1' } },
      a.tokens.doctor,
    );
    encounterOfA = opened.openEncounter.id;
    diagnosisOfA = opened.openEncounter.diagnoses[0]!.id;
    await ok(
      harness,
      'mutation { createDepartment(input: { code: "CARD", name: "Cardiology" }) { id } }',
      {},
      a.tokens.tenant_admin,
    );
    wardOfA = await createWard(harness, a, ['1', '2'], 'ICU');
    stayOfA = await admit(harness, a, await registerPatient(harness, a), wardOfA.beds['1']!);
    const note = await ok<{ createNote: { id: string } }>(
      harness,
      'mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }',
      { input: { encounterId: encounterOfA, kind: 'PROGRESS', content: { text: 'Seen' } } },
      a.tokens.doctor,
    );
    noteOfA = note.createNote.id;
    const summary = await ok<{ createDischargeSummary: { id: string } }>(
      harness,
      'mutation ($id: ID!) { createDischargeSummary(encounterId: $id, content: { hospitalCourse: "Calm" }) { id } }',
      { id: stayOfA },
      a.tokens.doctor,
    );
    summaryOfA = summary.createDischargeSummary.id;
  });

  after(async () => {
    await harness?.stop();
  });

  test('root fields read null or empty', async () => {
    const data = await ok<{
      encounter: unknown;
      note: unknown;
      ward: unknown;
      wards: unknown[];
      departments: unknown[];
    }>(
      harness,
      `query ($e: ID!, $n: ID!, $w: ID!) {
        encounter(id: $e) { id } note(id: $n) { id } ward(id: $w) { id } wards { id } departments { id }
      }`,
      { e: encounterOfA, n: noteOfA, w: wardOfA.id },
      b.tokens.doctor,
    );

    assert.equal(data.encounter, null);
    assert.equal(data.note, null);
    assert.equal(data.ward, null);
    assert.deepEqual(data.wards, []);
    assert.deepEqual(data.departments, []);
  });

  test('entity references resolve to null', async () => {
    const { body } = await harness.graphql<{ _entities: unknown[] }>(
      ENTITIES,
      {
        representations: [
          { __typename: 'Encounter', id: encounterOfA },
          { __typename: 'Encounter', id: stayOfA },
        ],
      },
      b.tokens.doctor,
    );

    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?._entities, [null, null]);
  });

  test('own tenant resolves entity references', async () => {
    const { body } = await harness.graphql<{ _entities: { id: string }[] }>(
      ENTITIES,
      { representations: [{ __typename: 'Encounter', id: encounterOfA }] },
      a.tokens.doctor,
    );

    assert.equal(body.data?._entities[0]?.id, encounterOfA);
  });

  test('mutations report NOT_FOUND', async () => {
    const patientOfB = await registerPatient(harness, b);
    const cases: [string, Record<string, unknown>, string][] = [
      ['mutation ($id: ID!) { startEncounter(id: $id) { id } }', { id: encounterOfA }, b.tokens.doctor],
      [
        'mutation ($id: ID!) { updateEncounter(id: $id, input: { chiefComplaint: "x" }) { id } }',
        { id: encounterOfA },
        b.tokens.doctor,
      ],
      [
        'mutation ($id: ID!) { cancelEncounter(id: $id, reason: "x") { id } }',
        { id: encounterOfA },
        b.tokens.doctor,
      ],
      [
        'mutation ($id: ID!) { addDiagnosis(encounterId: $id, input: { text: "x" }) { id } }',
        { id: encounterOfA },
        b.tokens.doctor,
      ],
      [
        'mutation ($id: ID!) { removeDiagnosis(id: $id, reason: "x") { id } }',
        { id: diagnosisOfA },
        b.tokens.doctor,
      ],
      ['mutation ($id: ID!) { orderDischarge(encounterId: $id) { id } }', { id: stayOfA }, b.tokens.doctor],
      ['mutation ($id: ID!) { recordDeparture(encounterId: $id) { id } }', { id: stayOfA }, b.tokens.nurse],
      [
        'mutation ($id: ID!, $bed: ID!) { transferPatient(encounterId: $id, bedId: $bed) { id } }',
        { id: stayOfA, bed: wardOfA.beds['2'] },
        b.tokens.nurse,
      ],
      [
        'mutation ($id: ID!) { updateWard(id: $id, input: { name: "x" }) { id } }',
        { id: wardOfA.id },
        b.tokens.tenant_admin,
      ],
      [
        'mutation ($id: ID!) { addBeds(wardId: $id, codes: ["9"]) { id } }',
        { id: wardOfA.id },
        b.tokens.tenant_admin,
      ],
      [
        'mutation ($id: ID!) { blockBed(id: $id, reason: "x") { id } }',
        { id: wardOfA.beds['2'] },
        b.tokens.tenant_admin,
      ],
      ['mutation ($id: ID!) { markBedCleaned(id: $id) { id } }', { id: wardOfA.beds['2'] }, b.tokens.nurse],
      [ADMIT, { input: { patientId: patientOfB, bedId: wardOfA.beds['2'] } }, b.tokens.doctor],
      [
        `mutation ($input: RecordPastAdmissionInput!) { recordPastAdmission(input: $input) { id } }`,
        {
          input: {
            patientId: patientOfB,
            wardId: wardOfA.id,
            admittedAt: '2020-01-01T00:00:00Z',
            dischargedAt: '2020-01-02T00:00:00Z',
          },
        },
        b.tokens.doctor,
      ],
      [
        'mutation ($id: ID!) { createNote(input: { encounterId: $id, kind: PROGRESS, content: { text: "x" } }) { id } }',
        { id: encounterOfA },
        b.tokens.doctor,
      ],
      ['mutation ($id: ID!) { signNote(id: $id) { id } }', { id: noteOfA }, b.tokens.doctor],
      [
        'mutation ($id: ID!) { amendNote(id: $id, content: { text: "x" }, reason: "y") { id } }',
        { id: noteOfA },
        b.tokens.doctor,
      ],
      [
        'mutation ($id: ID!) { updateNoteDraft(id: $id, content: { text: "x" }) { id } }',
        { id: noteOfA },
        b.tokens.doctor,
      ],
      [
        'mutation ($id: ID!) { createDischargeSummary(encounterId: $id, content: { followUp: "x" }) { id } }',
        { id: stayOfA },
        b.tokens.doctor,
      ],
      ['mutation ($id: ID!) { signDischargeSummary(id: $id) { id } }', { id: summaryOfA }, b.tokens.doctor],
      [
        'mutation ($id: ID!) { updateDischargeSummaryDraft(id: $id, content: { followUp: "x" }) { id } }',
        { id: summaryOfA },
        b.tokens.doctor,
      ],
      [OPEN_ENCOUNTER, { input: { patientId: patientOfA } }, b.tokens.doctor],
    ];
    for (const [query, variables, token] of cases) {
      const { body } = await harness.graphql(query, variables, token);
      assert.deepEqual(errorCodes(body), ['NOT_FOUND'], query);
    }
  });

  test('codes and source ids are per tenant', async () => {
    const patientOfB = await registerPatient(harness, b);

    await ok(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId: patientOfB, sourceId: 'shared:Encounter/1' } },
      b.tokens.doctor,
    );
    await createWard(harness, b, ['1'], 'ICU');
    await ok(
      harness,
      'mutation { createDepartment(input: { code: "CARD", name: "Cardiology" }) { id } }',
      {},
      b.tokens.tenant_admin,
    );
  });

  test('tenant A still sees its records', async () => {
    const data = await ok<{
      encounter: { id: string; notes: { id: string }[] };
      ward: { census: { occupied: number } };
    }>(
      harness,
      'query ($e: ID!, $w: ID!) { encounter(id: $e) { id notes { id } } ward(id: $w) { census { occupied } } }',
      { e: encounterOfA, w: wardOfA.id },
      a.tokens.doctor,
    );

    assert.equal(data.encounter.notes.length, 1);
    const departments = await ok<{ departments: { code: string }[] }>(
      harness,
      '{ departments { code } }',
      {},
      a.tokens.doctor,
    );
    assert.deepEqual(departments.departments, [{ code: 'CARD' }]);
    assert.equal(data.ward.census.occupied, 1);
  });

  test('app role without tenant sees nothing', async () => {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      for (const table of [
        'departments',
        'encounters',
        'diagnoses',
        'wards',
        'beds',
        'admissions',
        'bed_assignments',
        'notes',
        'note_versions',
        'discharge_summaries',
        'discharge_summary_versions',
      ]) {
        const { rows } = await client.query<{ count: string }>(`select count(*) from clinical.${table}`);
        assert.equal(rows[0]!.count, '0', table);
      }
    } finally {
      await client.end();
    }
  });
});
