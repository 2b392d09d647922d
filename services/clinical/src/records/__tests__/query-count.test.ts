import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { createRecords, DOCTOR_PERMISSIONS, RECORD_VITALS, minutesAgo } from '../../testing/records.js';

const CHART_FIELDS = `
  id
  age { display }
  latestVitals { heartRate { value } bodyWeight { value } }
  vitalSigns(first: 5) { totalCount edges { node { id } } }
  growth { bodyWeight { value ageAtMeasurement { display } } }
  allergies { id substance { display } }
  problems { id }
  prescriptions { id frequency { timesPerPeriod } }
`;

const LIST = `query { patients(first: 50) { totalCount edges { node { ${CHART_FIELDS} } } } }`;
const CHART = `query ($id: ID!) { patient(id: $id) { ${CHART_FIELDS} } }`;

describe('query count of patient records', () => {
  let harness: ClinicalHarness;
  let statements: string[] = [];

  before(async () => {
    harness = await startHarness({ onQuery: (sql) => statements.push(sql) });
  });

  after(async () => {
    await harness?.stop();
  });

  /** Runs a query and returns how many SQL statements it sent. */
  const countStatements = async (query: string, variables: Record<string, unknown>, token: string) => {
    statements = [];
    const { body } = await harness.graphql(query, variables, token);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return statements.length;
  };

  test('patient list constant as it grows', async () => {
    const token = await harness.token(newId(), DOCTOR_PERMISSIONS);
    await createRecords(harness, token);
    await createRecords(harness, token);
    const withTwo = await countStatements(LIST, {}, token);

    for (let i = 0; i < 10; i += 1) await createRecords(harness, token);
    const withTwelve = await countStatements(LIST, {}, token);

    // One batch per field: the patient page, its settings and audit, and one query per record field.
    assert.ok(withTwo >= 7, `only ${withTwo} statements were seen`);
    assert.equal(withTwelve, withTwo);
  });

  test('chart constant as records grow', async () => {
    const token = await harness.token(newId(), DOCTOR_PERMISSIONS);
    const ids = await createRecords(harness, token);
    const small = await countStatements(CHART, { id: ids.patient }, token);

    for (let i = 0; i < 15; i += 1) {
      await harness.graphql(
        RECORD_VITALS,
        {
          input: {
            patientId: ids.patient,
            effectiveAt: minutesAgo(10 + i),
            bodyWeight: { value: 70 + i, unit: 'kg' },
          },
        },
        token,
      );
    }
    const large = await countStatements(CHART, { id: ids.patient }, token);

    assert.equal(large, small);
  });
});
