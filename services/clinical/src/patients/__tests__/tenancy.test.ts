import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  adultInput,
  GET_PATIENT,
  REGISTER_PATIENT,
  SEARCH_PATIENTS,
  UPDATE_PATIENT,
} from '../../testing/fixtures.js';

const ENTITIES = `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Patient { id mrn } }
  }
`;

describe('tenant isolation of patients', () => {
  let harness: ClinicalHarness;
  let tokenA: string;
  let tokenB: string;
  let patientOfA: { id: string; mrn: string };

  before(async () => {
    harness = await startHarness();
    tokenA = await harness.token(newId());
    tokenB = await harness.token(newId());
    const input = adultInput({
      name: { given: ['Grace'], family: 'Hopper' },
      phone: '+1 212 555 0199',
      identifiers: [{ type: 'EXTERNAL', system: 'navy', value: 'GH-1906' }],
    });
    const { body } = await harness.graphql<{ registerPatient: { id: string; mrn: string } }>(
      REGISTER_PATIENT,
      { input },
      tokenA,
    );
    patientOfA = body.data!.registerPatient;
  });

  after(async () => {
    await harness?.stop();
  });

  test('other tenant reads null', async () => {
    const { body } = await harness.graphql<{ patient: unknown }>(GET_PATIENT, { id: patientOfA.id }, tokenB);

    assert.equal(body.errors, undefined);
    assert.equal(body.data?.patient, null);
  });

  test('other tenant search finds nothing', async () => {
    for (const search of ['hopper', 'grace', patientOfA.mrn, '+1 212 555', '2125550199', undefined]) {
      const { body } = await harness.graphql<{ patients: { totalCount: number; edges: unknown[] } }>(
        SEARCH_PATIENTS,
        { search },
        tokenB,
      );
      assert.equal(body.data?.patients.totalCount, 0, `search ${String(search)}`);
      assert.deepEqual(body.data?.patients.edges, [], `search ${String(search)}`);
    }
  });

  test('other tenant identifier lookup null', async () => {
    const query = 'query { patientByIdentifier(system: "navy", value: "GH-1906") { id } }';

    const { body } = await harness.graphql<{ patientByIdentifier: unknown }>(query, {}, tokenB);

    assert.equal(body.data?.patientByIdentifier, null);
  });

  test('other tenant entity reference null', async () => {
    const representations = [{ __typename: 'Patient', id: patientOfA.id }];

    const { body } = await harness.graphql<{ _entities: unknown[] }>(ENTITIES, { representations }, tokenB);

    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?._entities, [null]);
  });

  test('other tenant update not found', async () => {
    const { body } = await harness.graphql(
      UPDATE_PATIENT,
      { id: patientOfA.id, input: { email: 'stolen@example.org' } },
      tokenB,
    );
    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);

    const { body: read } = await harness.graphql<{ patient: { email: string | null } }>(
      GET_PATIENT,
      { id: patientOfA.id },
      tokenA,
    );
    assert.equal(read.data?.patient.email, null);
  });

  test('own tenant still reads patient', async () => {
    const { body } = await harness.graphql<{ patient: { mrn: string } }>(
      GET_PATIENT,
      { id: patientOfA.id },
      tokenA,
    );

    assert.equal(body.data?.patient.mrn, patientOfA.mrn);
  });

  test('malformed id rejected', async () => {
    const { body } = await harness.graphql(GET_PATIENT, { id: 'patient-1' }, tokenA);

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  test('app role without tenant sees nothing', async () => {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      for (const table of [
        'patients',
        'patient_identifiers',
        'patient_guardians',
        'mrn_counters',
        'tenant_settings',
      ]) {
        const result = await client.query(`select count(*)::int as count from clinical.${table}`);
        assert.equal(result.rows[0].count, 0, table);
      }
    } finally {
      await client.end();
    }
  });

  test('app role in other tenant sees nothing', async () => {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [newId()]);
      const result = await client.query(
        'select count(*)::int as count from clinical.patients where id = $1',
        [patientOfA.id],
      );
      await client.query('rollback');

      assert.equal(result.rows[0].count, 0);
    } finally {
      await client.end();
    }
  });

  test('app role cannot bypass policies', async () => {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      await assert.rejects(
        client.query('alter table clinical.patients disable row level security'),
        /must be owner/,
      );
      await assert.rejects(
        client.query('set row_security = off; select count(*) from clinical.patients'),
        /row-level security/,
      );
    } finally {
      await client.end();
    }
  });
});
