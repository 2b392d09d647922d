import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  ADD_PROBLEM,
  amoxicillinInput,
  createRecords,
  DOCTOR_PERMISSIONS,
  ISSUE_PRESCRIPTION,
  minutesAgo,
  RECORD_ALLERGY,
  RECORD_VITALS,
  type RecordIds as Ids,
} from '../../testing/records.js';

const RECORD_TABLES = ['vital_sign_panels', 'vital_signs', 'allergies', 'problems', 'prescriptions'];

const PATIENT_RECORD_FIELDS = `
  id
  age { display }
  latestVitals { heartRate { value } }
  vitalSigns { totalCount }
  growth { bodyWeight { value } }
  allergies { id }
  problems { id }
  prescriptions { id }
`;

const ENTITIES = `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Patient { ${PATIENT_RECORD_FIELDS} } }
  }
`;

const ROOT_READS = `
  query Reads($panel: ID!, $allergy: ID!, $problem: ID!, $prescription: ID!) {
    vitalSignsPanel(id: $panel) { id }
    allergyIntolerance(id: $allergy) { id }
    problem(id: $problem) { id }
    prescription(id: $prescription) { id }
  }
`;

/** Mutations on an existing record, each with the variables that would change it. */
const RECORD_MUTATIONS: [string, string, (ids: Ids) => Record<string, unknown>][] = [
  [
    'markVitalSignsEnteredInError',
    'mutation ($id: ID!) { markVitalSignsEnteredInError(id: $id, reason: "Wrong patient") { id } }',
    (ids) => ({ id: ids.panel }),
  ],
  [
    'updateAllergyStatus',
    'mutation ($id: ID!) { updateAllergyStatus(id: $id, input: { clinicalStatus: RESOLVED, reason: "Gone" }) { id } }',
    (ids) => ({ id: ids.allergy }),
  ],
  [
    'resolveProblem',
    'mutation ($id: ID!) { resolveProblem(id: $id) { id } }',
    (ids) => ({ id: ids.problem }),
  ],
  [
    'stopPrescription',
    'mutation ($id: ID!) { stopPrescription(id: $id, reason: "Stop") { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
  [
    'completePrescription',
    'mutation ($id: ID!) { completePrescription(id: $id) { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
  [
    'cancelPrescription',
    'mutation ($id: ID!) { cancelPrescription(id: $id, reason: "Cancel") { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
];

describe('tenant isolation of patient records', () => {
  let harness: ClinicalHarness;
  let tokenA: string;
  let tokenB: string;
  let ofA: Ids;

  before(async () => {
    harness = await startHarness();
    tokenA = await harness.token(newId(), DOCTOR_PERMISSIONS);
    tokenB = await harness.token(newId(), DOCTOR_PERMISSIONS);
    ofA = await createRecords(harness, tokenA);
  });

  after(async () => {
    await harness?.stop();
  });

  test('root reads return null', async () => {
    const variables = {
      panel: ofA.panel,
      allergy: ofA.allergy,
      problem: ofA.problem,
      prescription: ofA.prescription,
    };

    const { body } = await harness.graphql(ROOT_READS, variables, tokenB);
    const own = await harness.graphql<Record<string, { id: string }>>(ROOT_READS, variables, tokenA);

    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data, {
      vitalSignsPanel: null,
      allergyIntolerance: null,
      problem: null,
      prescription: null,
    });
    assert.equal(own.body.data?.prescription?.id, ofA.prescription);
    assert.equal(own.body.data?.vitalSignsPanel?.id, ofA.panel);
  });

  test('entity reference of other tenant null', async () => {
    const representations = [{ __typename: 'Patient', id: ofA.patient }];

    const { body } = await harness.graphql<{ _entities: unknown[] }>(ENTITIES, { representations }, tokenB);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data?._entities, [null]);
  });

  test('entity reference of own tenant has records', async () => {
    const representations = [{ __typename: 'Patient', id: ofA.patient }];

    const { body } = await harness.graphql<{
      _entities: {
        allergies: unknown[];
        problems: unknown[];
        prescriptions: unknown[];
        vitalSigns: { totalCount: number };
      }[];
    }>(ENTITIES, { representations }, tokenA);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const [patient] = body.data!._entities;
    assert.equal(patient!.allergies.length, 1);
    assert.equal(patient!.problems.length, 1);
    assert.equal(patient!.prescriptions.length, 1);
    // Heart rate and weight; no BMI without a height.
    assert.equal(patient!.vitalSigns.totalCount, 2);
  });

  test('creates for other tenant patient not found', async () => {
    const creates: [string, Record<string, unknown>][] = [
      [
        RECORD_VITALS,
        {
          input: {
            patientId: ofA.patient,
            effectiveAt: minutesAgo(1),
            heartRate: { value: 70, unit: '/min' },
          },
        },
      ],
      [
        RECORD_ALLERGY,
        { input: { patientId: ofA.patient, category: 'FOOD', substance: { display: 'Milk' } } },
      ],
      [ADD_PROBLEM, { input: { patientId: ofA.patient, condition: { display: 'Cough' } } }],
      [ISSUE_PRESCRIPTION, { input: amoxicillinInput(ofA.patient) }],
    ];
    for (const [mutation, variables] of creates) {
      const { body } = await harness.graphql(mutation, variables, tokenB);
      assert.deepEqual(errorCodes(body), ['NOT_FOUND'], mutation);
    }
  });

  for (const [name, mutation, variablesOf] of RECORD_MUTATIONS) {
    test(`${name} of other tenant not found`, async () => {
      const { body } = await harness.graphql(mutation, variablesOf(ofA), tokenB);

      assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
    });
  }

  test('other tenant changed nothing', async () => {
    const { body } = await harness.graphql<{
      vitalSignsPanel: { status: string };
      allergyIntolerance: { clinicalStatus: string };
      problem: { status: string };
      prescription: { status: string };
    }>(
      `query ($panel: ID!, $allergy: ID!, $problem: ID!, $prescription: ID!) {
        vitalSignsPanel(id: $panel) { status }
        allergyIntolerance(id: $allergy) { clinicalStatus }
        problem(id: $problem) { status }
        prescription(id: $prescription) { status }
      }`,
      { panel: ofA.panel, allergy: ofA.allergy, problem: ofA.problem, prescription: ofA.prescription },
      tokenA,
    );

    assert.equal(body.data?.vitalSignsPanel.status, 'FINAL');
    assert.equal(body.data?.allergyIntolerance.clinicalStatus, 'ACTIVE');
    assert.equal(body.data?.problem.status, 'ACTIVE');
    assert.equal(body.data?.prescription.status, 'ACTIVE');
  });

  test('malformed ids rejected', async () => {
    const { body } = await harness.graphql(
      ROOT_READS,
      { panel: 'x', allergy: ofA.allergy, problem: ofA.problem, prescription: ofA.prescription },
      tokenA,
    );

    assert.ok(errorCodes(body).includes('BAD_USER_INPUT'));
  });

  test('app role without tenant sees no records', async () => {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      for (const table of RECORD_TABLES) {
        const result = await client.query(`select count(*)::int as count from clinical.${table}`);
        assert.equal(result.rows[0].count, 0, table);
      }
    } finally {
      await client.end();
    }
  });

  test('app role in other tenant sees no records', async () => {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [newId()]);
      for (const table of RECORD_TABLES) {
        const result = await client.query(
          `select count(*)::int as count from clinical.${table} where patient_id = $1`,
          [ofA.patient],
        );
        assert.equal(result.rows[0].count, 0, table);
      }
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });

  test('records of other tenant patient cannot be inserted', async () => {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    const tenantB = newId();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [tenantB]);
      // The foreign key is (tenant_id, patient_id), so a row of tenant B cannot point at A's patient.
      await assert.rejects(
        client.query(
          `insert into clinical.problems (tenant_id, id, patient_id, condition_display, status, recorded_at, recorded_by, created_at, updated_at)
           values ($1, $2, $3, 'Injected', 'ACTIVE', now(), $2, now(), now())`,
          [tenantB, newId(), ofA.patient],
        ),
        /foreign key/,
      );
    } finally {
      await client.query('rollback');
      await client.end();
    }
  });
});
