import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  ADMISSION_FIELDS,
  ADMIT,
  admit,
  createWard,
  firstError,
  newTenant,
  ok,
  registerPatient,
  type TestTenant,
} from '../../encounters/__tests__/support.js';

interface AdmissionData {
  admittedAt: string;
  dischargeOrderedAt: string | null;
  dischargedAt: string | null;
  dischargeOrderedBy: { id: string } | null;
  ward: { id: string; code: string };
  bed: { id: string; code: string; status: string } | null;
  assignments: { id: string; from: string; to: string | null; bed: { code: string } }[];
}

interface StayData {
  id: string;
  status: string;
  endedAt: string | null;
  admission: AdmissionData;
}

const STAY = `id status endedAt admission { ${ADMISSION_FIELDS} }`;
const TRANSFER = `
  mutation Transfer($encounterId: ID!, $bedId: ID!) { transferPatient(encounterId: $encounterId, bedId: $bedId) { ${STAY} } }
`;
const ORDER_DISCHARGE = `
  mutation Order($encounterId: ID!) { orderDischarge(encounterId: $encounterId) { ${STAY} } }
`;
const DEPART = `
  mutation Depart($encounterId: ID!, $departedAt: DateTime) {
    recordDeparture(encounterId: $encounterId, departedAt: $departedAt) { ${STAY} }
  }
`;
const PAST = `
  mutation Past($input: RecordPastAdmissionInput!) {
    recordPastAdmission(input: $input) { ${STAY} class sourceId diagnoses { code primary } }
  }
`;
const BED_MUTATION = (name: string, extra = '') => `
  mutation B($id: ID!${extra}) { ${name}(id: $id${extra ? ', reason: $reason' : ''}) { id code status blockedReason } }
`;
const BLOCK = BED_MUTATION('blockBed', ', $reason: String!');
const UNBLOCK = BED_MUTATION('unblockBed');
const CLEANED = BED_MUTATION('markBedCleaned');
const CENSUS = `
  query Census($id: ID!) {
    ward(id: $id) {
      code
      beds { code status occupant { patient { id } } }
      census {
        totalBeds free occupied cleaning blocked
        occupants { from bed { code } patient { id } encounter { id } }
      }
    }
  }
`;
const CURRENT_ADMISSION = `
  query Current($id: ID!) { patient(id: $id) { currentAdmission { bed { code } encounter { id } } } }
`;

describe('wards, beds and admissions', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
  });

  after(async () => {
    await harness?.stop();
  });

  test('admission occupies the bed', async () => {
    const ward = await createWard(harness, tenant, ['1', '2']);
    const patientId = await registerPatient(harness, tenant);

    const data = await ok<{ admitPatient: StayData & { class: string } }>(
      harness,
      ADMIT,
      { input: { patientId, bedId: ward.beds['1'] } },
      tenant.tokens.front_desk,
    );

    assert.equal(data.admitPatient.class, 'INPATIENT');
    assert.equal(data.admitPatient.status, 'IN_PROGRESS');
    assert.equal(data.admitPatient.admission.bed?.status, 'OCCUPIED');
    assert.equal(data.admitPatient.admission.assignments.length, 1);
    assert.equal(data.admitPatient.admission.assignments[0]!.to, null);
  });

  test('concurrent admissions to one bed: one wins', async () => {
    const ward = await createWard(harness, tenant, ['A']);
    const patients = await Promise.all(Array.from({ length: 8 }, () => registerPatient(harness, tenant)));

    const results = await Promise.all(
      patients.map((patientId) =>
        harness.graphql(ADMIT, { input: { patientId, bedId: ward.beds['A'] } }, tenant.tokens.doctor),
      ),
    );

    const succeeded = results.filter(({ body }) => !body.errors);
    const conflicts = results.filter(({ body }) => errorCodes(body).join() === 'CONFLICT');
    assert.equal(succeeded.length, 1);
    assert.equal(conflicts.length, patients.length - 1);
    const census = await ok<{ ward: { census: { occupied: number; occupants: unknown[] } } }>(
      harness,
      CENSUS,
      { id: ward.id },
      tenant.tokens.nurse,
    );
    assert.equal(census.ward.census.occupied, 1);
    assert.equal(census.ward.census.occupants.length, 1);
  });

  test('patient admitted twice CONFLICT', async () => {
    const ward = await createWard(harness, tenant, ['1', '2']);
    const patientId = await registerPatient(harness, tenant);
    await admit(harness, tenant, patientId, ward.beds['1']!);

    const { body } = await harness.graphql(
      ADMIT,
      { input: { patientId, bedId: ward.beds['2'] } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).reason, 'ALREADY_ADMITTED');
  });

  test('transfer keeps the bed history', async () => {
    const first = await createWard(harness, tenant, ['1']);
    const second = await createWard(harness, tenant, ['9']);
    const patientId = await registerPatient(harness, tenant);
    const encounterId = await admit(harness, tenant, patientId, first.beds['1']!);

    const data = await ok<{ transferPatient: StayData }>(
      harness,
      TRANSFER,
      { encounterId, bedId: second.beds['9'] },
      tenant.tokens.nurse,
    );

    const admission = data.transferPatient.admission;
    assert.equal(admission.ward.id, second.id);
    assert.equal(admission.bed?.code, '9');
    assert.deepEqual(
      admission.assignments.map((assignment) => assignment.bed.code),
      ['1', '9'],
    );
    assert.ok(admission.assignments[0]!.to);
    assert.equal(admission.assignments[1]!.to, null);
    const census = await ok<{ ward: { beds: { status: string }[] } }>(
      harness,
      CENSUS,
      { id: first.id },
      tenant.tokens.nurse,
    );
    assert.equal(census.ward.beds[0]!.status, 'CLEANING');
  });

  test('transfer to an occupied bed CONFLICT', async () => {
    const ward = await createWard(harness, tenant, ['1', '2']);
    const encounterId = await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);
    await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['2']!);

    const { body } = await harness.graphql(
      TRANSFER,
      { encounterId, bedId: ward.beds['2'] },
      tenant.tokens.nurse,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('discharge in two steps', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const patientId = await registerPatient(harness, tenant);
    const encounterId = await admit(harness, tenant, patientId, ward.beds['1']!);

    const { body: early } = await harness.graphql(DEPART, { encounterId }, tenant.tokens.nurse);
    assert.deepEqual(errorCodes(early), ['CONFLICT']);
    assert.equal(firstError(early).reason, 'DISCHARGE_NOT_ORDERED');

    const ordered = await ok<{ orderDischarge: StayData }>(
      harness,
      ORDER_DISCHARGE,
      { encounterId },
      tenant.tokens.doctor,
    );
    assert.ok(ordered.orderDischarge.admission.dischargeOrderedAt);
    assert.equal(ordered.orderDischarge.admission.dischargeOrderedBy?.id, tenant.userIds.doctor);
    assert.equal(ordered.orderDischarge.admission.bed?.status, 'OCCUPIED');
    assert.equal(ordered.orderDischarge.status, 'IN_PROGRESS');

    const departed = await ok<{ recordDeparture: StayData }>(
      harness,
      DEPART,
      { encounterId },
      tenant.tokens.nurse,
    );
    assert.equal(departed.recordDeparture.status, 'CLOSED');
    assert.ok(departed.recordDeparture.admission.dischargedAt);
    assert.equal(departed.recordDeparture.endedAt, departed.recordDeparture.admission.dischargedAt);
    assert.equal(departed.recordDeparture.admission.bed?.status, 'CLEANING');
    assert.ok(departed.recordDeparture.admission.assignments[0]!.to);
    const current = await ok<{ patient: { currentAdmission: unknown } }>(
      harness,
      CURRENT_ADMISSION,
      { id: patientId },
      tenant.tokens.doctor,
    );
    assert.equal(current.patient.currentAdmission, null);

    const { body: cleanedByDoctor } = await harness.graphql(
      CLEANED,
      { id: ward.beds['1'] },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(cleanedByDoctor), ['FORBIDDEN']);
    const cleaned = await ok<{ markBedCleaned: { status: string } }>(
      harness,
      CLEANED,
      { id: ward.beds['1'] },
      tenant.tokens.front_desk,
    );
    assert.equal(cleaned.markBedCleaned.status, 'FREE');
  });

  test('nurse cannot order a discharge', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const encounterId = await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);

    const { body } = await harness.graphql(ORDER_DISCHARGE, { encounterId }, tenant.tokens.nurse);

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('blocked bed rejects admission', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const blocked = await ok<{ blockBed: { status: string; blockedReason: string } }>(
      harness,
      BLOCK,
      { id: ward.beds['1'], reason: 'Broken rail' },
      tenant.tokens.tenant_admin,
    );
    assert.equal(blocked.blockBed.status, 'BLOCKED');
    assert.equal(blocked.blockBed.blockedReason, 'Broken rail');

    const { body } = await harness.graphql(
      ADMIT,
      { input: { patientId: await registerPatient(harness, tenant), bedId: ward.beds['1'] } },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).status, 'BLOCKED');

    const unblocked = await ok<{ unblockBed: { status: string; blockedReason: string | null } }>(
      harness,
      UNBLOCK,
      { id: ward.beds['1'] },
      tenant.tokens.tenant_admin,
    );
    assert.equal(unblocked.unblockBed.status, 'FREE');
    assert.equal(unblocked.unblockBed.blockedReason, null);
  });

  test('occupied bed cannot be blocked', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);

    const { body } = await harness.graphql(
      BLOCK,
      { id: ward.beds['1'], reason: 'Repair' },
      tenant.tokens.tenant_admin,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('front desk cannot block beds', async () => {
    const ward = await createWard(harness, tenant, ['1']);

    const { body } = await harness.graphql(
      BLOCK,
      { id: ward.beds['1'], reason: 'Repair' },
      tenant.tokens.front_desk,
    );

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('census counts and occupants', async () => {
    const ward = await createWard(harness, tenant, ['1', '2', '3', '4']);
    const patientA = await registerPatient(harness, tenant);
    const patientB = await registerPatient(harness, tenant);
    await admit(harness, tenant, patientB, ward.beds['3']!);
    await admit(harness, tenant, patientA, ward.beds['1']!);
    await ok(harness, BLOCK, { id: ward.beds['4'], reason: 'Repair' }, tenant.tokens.tenant_admin);

    const data = await ok<{
      ward: {
        census: {
          totalBeds: number;
          free: number;
          occupied: number;
          cleaning: number;
          blocked: number;
          occupants: { from: string; bed: { code: string }; patient: { id: string } }[];
        };
      };
    }>(harness, CENSUS, { id: ward.id }, tenant.tokens.nurse);

    const census = data.ward.census;
    assert.deepEqual(
      [census.totalBeds, census.free, census.occupied, census.cleaning, census.blocked],
      [4, 1, 2, 0, 1],
    );
    assert.deepEqual(
      census.occupants.map((occupant) => [occupant.bed.code, occupant.patient.id]),
      [
        ['1', patientA],
        ['3', patientB],
      ],
    );
    assert.ok(census.occupants.every((occupant) => occupant.from));
  });

  test('past admission picks a free bed', async () => {
    const ward = await createWard(harness, tenant, ['1', '2']);
    const patientId = await registerPatient(harness, tenant);
    // Bed 1 is taken over the whole stay by another past stay, so bed 2 is picked.
    await ok(
      harness,
      PAST,
      {
        input: {
          patientId: await registerPatient(harness, tenant),
          wardId: ward.id,
          bedId: ward.beds['1'],
          admittedAt: '2022-03-01T10:00:00Z',
          dischargedAt: '2022-03-10T10:00:00Z',
        },
      },
      tenant.tokens.doctor,
    );

    const data = await ok<{
      recordPastAdmission: StayData & { class: string; sourceId: string; diagnoses: { code: string }[] };
    }>(
      harness,
      PAST,
      {
        input: {
          patientId,
          wardId: ward.id,
          admittedAt: '2022-03-02T10:00:00Z',
          dischargedAt: '2022-03-05T10:00:00Z',
          diagnoses: [{ codeSystem: 'ICD10', code: 'J18.9', text: 'Pneumonia', primary: true }],
          sourceId: `synthea:Encounter/${patientId}`,
        },
      },
      tenant.tokens.doctor,
    );

    const stay = data.recordPastAdmission;
    assert.equal(stay.class, 'INPATIENT');
    assert.equal(stay.status, 'CLOSED');
    assert.equal(stay.admission.bed?.code, '2');
    assert.equal(stay.admission.bed?.status, 'FREE');
    assert.equal(stay.admission.dischargedAt, '2022-03-05T10:00:00.000Z');
    assert.equal(stay.admission.assignments[0]!.to, '2022-03-05T10:00:00.000Z');
    assert.deepEqual(
      stay.diagnoses.map((diagnosis) => diagnosis.code),
      ['J18.9'],
    );
  });

  test('past admission overlapping a stay CONFLICT', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const input = {
      wardId: ward.id,
      bedId: ward.beds['1'],
      admittedAt: '2021-01-01T00:00:00Z',
      dischargedAt: '2021-01-05T00:00:00Z',
    };
    await ok(
      harness,
      PAST,
      { input: { ...input, patientId: await registerPatient(harness, tenant) } },
      tenant.tokens.doctor,
    );

    const { body: named } = await harness.graphql(
      PAST,
      {
        input: {
          ...input,
          patientId: await registerPatient(harness, tenant),
          admittedAt: '2021-01-04T00:00:00Z',
        },
      },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(named), ['CONFLICT']);
    assert.equal(firstError(named).reason, 'BED_OCCUPIED');

    const { body: picked } = await harness.graphql(
      PAST,
      { input: { ...input, bedId: undefined, patientId: await registerPatient(harness, tenant) } },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(picked), ['CONFLICT']);
    assert.equal(firstError(picked).reason, 'NO_FREE_BED');
  });

  test('past admission leaves current occupancy alone', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);

    // A stay that ended before the current one began fits into the same bed.
    const data = await ok<{ recordPastAdmission: StayData }>(
      harness,
      PAST,
      {
        input: {
          patientId: await registerPatient(harness, tenant),
          wardId: ward.id,
          admittedAt: '2020-01-01T00:00:00Z',
          dischargedAt: '2020-01-02T00:00:00Z',
        },
      },
      tenant.tokens.doctor,
    );

    assert.equal(data.recordPastAdmission.admission.bed?.status, 'OCCUPIED');
  });

  test('past stays of one patient cannot overlap', async () => {
    const first = await createWard(harness, tenant, ['1']);
    const second = await createWard(harness, tenant, ['1']);
    const patientId = await registerPatient(harness, tenant);
    await ok(
      harness,
      PAST,
      {
        input: {
          patientId,
          wardId: first.id,
          admittedAt: '2019-06-01T00:00:00Z',
          dischargedAt: '2019-06-10T00:00:00Z',
        },
      },
      tenant.tokens.doctor,
    );

    const { body } = await harness.graphql(
      PAST,
      {
        input: {
          patientId,
          wardId: second.id,
          admittedAt: '2019-06-05T00:00:00Z',
          dischargedAt: '2019-06-07T00:00:00Z',
        },
      },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).reason, 'PATIENT_IN_ANOTHER_BED');
  });

  test('departure not before the discharge order', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const encounterId = await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);
    await ok(harness, ORDER_DISCHARGE, { encounterId }, tenant.tokens.doctor);

    const { body } = await harness.graphql(
      DEPART,
      { encounterId, departedAt: new Date(Date.now() - 3_600_000).toISOString() },
      tenant.tokens.nurse,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), ['departedAt']);
  });

  test('past admission input checked', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const future = new Date(Date.now() + 86_400_000).toISOString();

    const { body } = await harness.graphql(
      PAST,
      {
        input: {
          patientId: 'nope',
          wardId: ward.id,
          admittedAt: '2020-01-02T00:00:00Z',
          dischargedAt: future,
        },
      },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body).sort(), ['input.dischargedAt', 'input.patientId']);
  });

  test('past admission with diagnoses needs encounter:write', async () => {
    const ward = await createWard(harness, tenant, ['1']);

    const { body } = await harness.graphql(
      PAST,
      {
        input: {
          patientId: await registerPatient(harness, tenant),
          wardId: ward.id,
          admittedAt: '2020-01-01T00:00:00Z',
          dischargedAt: '2020-01-02T00:00:00Z',
          diagnoses: [{ text: 'Pneumonia' }],
        },
      },
      tenant.tokens.front_desk,
    );

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('duplicate bed code CONFLICT', async () => {
    const ward = await createWard(harness, tenant, ['1']);

    const { body } = await harness.graphql(
      'mutation ($id: ID!) { addBeds(wardId: $id, codes: ["2", "1"]) { id } }',
      { id: ward.id },
      tenant.tokens.tenant_admin,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.deepEqual(firstError(body).codes, ['1']);
  });

  test('inpatient closes only by departure', async () => {
    const ward = await createWard(harness, tenant, ['1']);
    const encounterId = await admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);

    const { body: close } = await harness.graphql(
      'mutation ($id: ID!) { closeEncounter(id: $id) { id } }',
      { id: encounterId },
      tenant.tokens.doctor,
    );
    const { body: cancel } = await harness.graphql(
      'mutation ($id: ID!) { cancelEncounter(id: $id, reason: "Wrong bed") { id } }',
      { id: encounterId },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(close), ['CONFLICT']);
    assert.deepEqual(errorCodes(cancel), ['CONFLICT']);
    assert.equal(firstError(cancel).reason, 'STILL_ADMITTED');
  });
});
