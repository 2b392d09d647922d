import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  admit,
  createWard,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  type TestTenant,
} from './support.js';

const CHART = `
  query Chart($first: Int) {
    patients(first: $first) {
      edges {
        node {
          id
          openEncounters { id }
          currentAdmission { admittedAt ward { code } bed { code } }
          encounters(first: 10) {
            totalCount
            edges {
              node {
                id status class attending { id }
                department { code }
                diagnoses { code text }
                notes { id text versions { version } }
                admission { ward { code census { occupied } } bed { code status } assignments { from bed { code } } }
                dischargeSummary { status hospitalCourse versions { version } }
              }
            }
          }
        }
      }
    }
  }
`;

/** The same chart for one encounter via federation, as billing or lab would ask for it. */
const ENTITIES = `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Encounter { id patient { id } diagnoses { code } admission { bed { code } } notes { id } }
    }
  }
`;

describe('query counts of encounter fields', () => {
  let harness: ClinicalHarness;
  let statements: string[] = [];
  let tenant: TestTenant;
  const encounterIds: string[] = [];

  before(async () => {
    harness = await startHarness({ onQuery: (sql) => statements.push(sql) });
    tenant = await newTenant(harness);
    const department = await ok<{ createDepartment: { id: string } }>(
      harness,
      'mutation { createDepartment(input: { code: "GEN", name: "General medicine" }) { id } }',
      {},
      tenant.tokens.tenant_admin,
    );
    const ward = await createWard(harness, tenant, ['1', '2', '3', '4', '5', '6', '7', '8']);

    // Eight patients, each with an OPD visit (diagnosis and note) and a stay with a summary.
    for (let index = 0; index < 8; index++) {
      const patientId = await registerPatient(harness, tenant);
      const opened = await ok<{ openEncounter: { id: string } }>(
        harness,
        OPEN_ENCOUNTER,
        {
          input: { patientId, departmentId: department.createDepartment.id, diagnoses: [{ text: 'Cough' }] },
        },
        tenant.tokens.doctor,
      );
      await ok(
        harness,
        'mutation ($id: ID!) { createNote(input: { encounterId: $id, kind: PROGRESS, content: { text: "Seen" } }) { id } }',
        { id: opened.openEncounter.id },
        tenant.tokens.doctor,
      );
      const stayId = await admit(harness, tenant, patientId, ward.beds[String(index + 1)]!);
      await ok(
        harness,
        'mutation ($id: ID!) { createDischargeSummary(encounterId: $id, content: { hospitalCourse: "Calm" }) { id } }',
        { id: stayId },
        tenant.tokens.doctor,
      );
      encounterIds.push(opened.openEncounter.id, stayId);
    }
  });

  after(async () => {
    await harness?.stop();
  });

  /** Runs a query and returns the number of SQL statements it sent. */
  const countStatements = async (query: string, variables: Record<string, unknown>) => {
    statements = [];
    await ok(harness, query, variables, tenant.tokens.doctor);
    return statements.length;
  };

  test('patient charts cost the same for 2 and 8', async () => {
    const two = await countStatements(CHART, { first: 2 });
    const eight = await countStatements(CHART, { first: 8 });

    assert.ok(two > 0);
    assert.equal(eight, two);
  });

  test('entity references cost the same for 2 and 16', async () => {
    const representations = (count: number) =>
      encounterIds.slice(0, count).map((id) => ({ __typename: 'Encounter', id }));

    const two = await countStatements(ENTITIES, { representations: representations(2) });
    const sixteen = await countStatements(ENTITIES, { representations: representations(16) });

    assert.equal(sixteen, two);
  });
});
