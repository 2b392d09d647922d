import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  ADMIT,
  createWard,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  type Role,
  type TestTenant,
} from './support.js';

describe('permissions of encounter fields', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;
  let patientId: string;
  let encounterId: string;
  let ward: { id: string; beds: Record<string, string> };

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
    patientId = await registerPatient(harness, tenant);
    const opened = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    encounterId = opened.openEncounter.id;
    ward = await createWard(harness, tenant, ['1', '2', '3']);
  });

  after(async () => {
    await harness?.stop();
  });

  /** Returns the first error code of an operation run as `role`, or OK when it succeeded. */
  const outcome = async (role: Role, query: string, variables: Record<string, unknown> = {}) => {
    const { body } = await harness.graphql(query, variables, tenant.tokens[role]);
    return errorCodes(body)[0] ?? 'OK';
  };

  test('encounter reads need encounter:read', async () => {
    const query = 'query ($id: ID!) { encounter(id: $id) { id diagnoses { id } } }';

    assert.equal(await outcome('doctor', query, { id: encounterId }), 'OK');
    assert.equal(await outcome('nurse', query, { id: encounterId }), 'OK');
    assert.equal(await outcome('front_desk', query, { id: encounterId }), 'FORBIDDEN');
    assert.equal(await outcome('tenant_admin', query, { id: encounterId }), 'FORBIDDEN');
  });

  test('patient encounter fields need encounter:read', async () => {
    for (const field of [
      'encounters { totalCount }',
      'openEncounters { id }',
      'currentAdmission { admittedAt }',
    ]) {
      const query = `query ($id: ID!) { patient(id: $id) { ${field} } }`;
      assert.equal(await outcome('doctor', query, { id: patientId }), 'OK', field);
      assert.equal(await outcome('front_desk', query, { id: patientId }), 'FORBIDDEN', field);
    }
  });

  test('entity references need encounter:read', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Encounter { id } } }';
    const variables = { r: [{ __typename: 'Encounter', id: encounterId }] };

    assert.equal(await outcome('nurse', query, variables), 'OK');
    assert.equal(await outcome('front_desk', query, variables), 'FORBIDDEN');
  });

  test('encounter writes need encounter:write', async () => {
    for (const role of ['nurse', 'front_desk', 'tenant_admin'] as const) {
      assert.equal(await outcome(role, OPEN_ENCOUNTER, { input: { patientId } }), 'FORBIDDEN', role);
      assert.equal(
        await outcome(role, 'mutation ($id: ID!) { startEncounter(id: $id) { id } }', { id: encounterId }),
        'FORBIDDEN',
        role,
      );
      assert.equal(
        await outcome(
          role,
          'mutation ($id: ID!) { addDiagnosis(encounterId: $id, input: { text: "x" }) { id } }',
          {
            id: encounterId,
          },
        ),
        'FORBIDDEN',
        role,
      );
    }
  });

  test('ward management needs ward:manage', async () => {
    const query = 'mutation { createWard(input: { code: "X1", name: "X" }) { id } }';

    assert.equal(await outcome('doctor', query), 'FORBIDDEN');
    assert.equal(await outcome('nurse', query), 'FORBIDDEN');
    assert.equal(await outcome('front_desk', query), 'FORBIDDEN');
    assert.equal(await outcome('tenant_admin', query), 'OK');
    assert.equal(
      await outcome('doctor', 'mutation { createDepartment(input: { code: "D1", name: "D" }) { id } }'),
      'FORBIDDEN',
    );
  });

  test('admission needs admission:write', async () => {
    const admitAs = async (role: Role, bed: string) =>
      outcome(role, ADMIT, {
        input: { patientId: await registerPatient(harness, tenant), bedId: ward.beds[bed] },
      });

    assert.equal(await admitAs('tenant_admin', '1'), 'FORBIDDEN');
    assert.equal(await admitAs('front_desk', '1'), 'OK');
    assert.equal(await admitAs('nurse', '2'), 'OK');
    assert.equal(await admitAs('doctor', '3'), 'OK');
  });

  test('front desk admits without reading clinical fields', async () => {
    const { body } = await harness.graphql(
      `mutation ($input: AdmitPatientInput!) { admitPatient(input: $input) { id chiefComplaint } }`,
      {
        input: {
          patientId: await registerPatient(harness, tenant),
          bedId: (await createWard(harness, tenant, ['1'])).beds['1'],
        },
      },
      tenant.tokens.front_desk,
    );

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
    assert.deepEqual(body.errors?.[0]?.path, ['admitPatient', 'chiefComplaint']);
  });

  test('wards readable by ward staff only', async () => {
    const query = '{ wards { id census { totalBeds } } }';

    for (const role of ['doctor', 'nurse', 'front_desk', 'tenant_admin'] as const) {
      assert.equal(await outcome(role, query), 'OK', role);
    }
    const billing = await harness.issuer.sign({
      tid: tenant.tenantId,
      perms: ['patient:read', 'invoice:read'],
    });
    const { body } = await harness.graphql(query, {}, billing);
    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('anonymous request UNAUTHENTICATED', async () => {
    const { body } = await harness.graphql('query ($id: ID!) { encounter(id: $id) { id } }', {
      id: encounterId,
    });

    assert.deepEqual(errorCodes(body), ['UNAUTHENTICATED']);
  });
});

describe('Patient.encounters connection', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
  });

  after(async () => {
    await harness?.stop();
  });

  const LIST = `
    query ($id: ID!, $first: Int, $after: String, $status: EncounterStatus, $class: EncounterClass) {
      patient(id: $id) {
        encounters(first: $first, after: $after, status: $status, class: $class) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { id status class startedAt } }
        }
      }
    }
  `;
  type Page = {
    patient: {
      encounters: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: { id: string; status: string; startedAt: string } }[];
      };
    };
  };

  test('newest first, paged, filtered', async () => {
    const patientId = await registerPatient(harness, tenant);
    const ids: string[] = [];
    for (let day = 1; day <= 5; day++) {
      const data = await ok<{ openEncounter: { id: string } }>(
        harness,
        OPEN_ENCOUNTER,
        {
          input: {
            patientId,
            startedAt: `2024-01-0${day}T08:00:00Z`,
            ...(day % 2 === 0 ? { endedAt: `2024-01-0${day}T09:00:00Z` } : {}),
          },
        },
        tenant.tokens.doctor,
      );
      ids.push(data.openEncounter.id);
    }

    const first = await ok<Page>(harness, LIST, { id: patientId, first: 2 }, tenant.tokens.doctor);
    assert.equal(first.patient.encounters.totalCount, 5);
    assert.deepEqual(
      first.patient.encounters.edges.map((edge) => edge.node.id),
      [ids[4], ids[3]],
    );
    assert.equal(first.patient.encounters.pageInfo.hasNextPage, true);

    const second = await ok<Page>(
      harness,
      LIST,
      { id: patientId, first: 10, after: first.patient.encounters.pageInfo.endCursor },
      tenant.tokens.doctor,
    );
    assert.deepEqual(
      second.patient.encounters.edges.map((edge) => edge.node.id),
      [ids[2], ids[1], ids[0]],
    );
    assert.equal(second.patient.encounters.pageInfo.hasNextPage, false);

    const closed = await ok<Page>(harness, LIST, { id: patientId, status: 'CLOSED' }, tenant.tokens.doctor);
    assert.equal(closed.patient.encounters.totalCount, 2);
    assert.deepEqual(
      closed.patient.encounters.edges.map((edge) => edge.node.id),
      [ids[3], ids[1]],
    );

    const inpatient = await ok<Page>(
      harness,
      LIST,
      { id: patientId, class: 'INPATIENT' },
      tenant.tokens.doctor,
    );
    assert.equal(inpatient.patient.encounters.totalCount, 0);
  });

  test('bad cursor and page size rejected', async () => {
    const patientId = await registerPatient(harness, tenant);

    const { body: cursor } = await harness.graphql(
      LIST,
      { id: patientId, after: 'nonsense' },
      tenant.tokens.doctor,
    );
    const { body: size } = await harness.graphql(LIST, { id: patientId, first: 1000 }, tenant.tokens.doctor);

    assert.deepEqual(errorCodes(cursor), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(size), ['BAD_USER_INPUT']);
  });

  test('open encounters lists OPEN and IN_PROGRESS', async () => {
    const patientId = await registerPatient(harness, tenant);
    const open = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    await ok(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId, startedAt: '2020-01-01T00:00:00Z', endedAt: '2020-01-01T01:00:00Z' } },
      tenant.tokens.doctor,
    );

    const data = await ok<{ patient: { openEncounters: { id: string }[] } }>(
      harness,
      'query ($id: ID!) { patient(id: $id) { openEncounters { id } } }',
      { id: patientId },
      tenant.tokens.doctor,
    );

    assert.deepEqual(
      data.patient.openEncounters.map((encounter) => encounter.id),
      [open.openEncounter.id],
    );
  });
});
