import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import {
  ADD_PROBLEM,
  amoxicillinInput,
  createRecords,
  DOCTOR_PERMISSIONS,
  FRONT_DESK_PERMISSIONS,
  ISSUE_PRESCRIPTION,
  minutesAgo,
  NURSE_PERMISSIONS,
  RECORD_ALLERGY,
  RECORD_VITALS,
  type RecordIds,
} from '../../testing/records.js';

/** Every operation on patient records, the permission it needs, and its variables. */
const OPERATIONS: [string, string, string, (ids: RecordIds) => Record<string, unknown>][] = [
  [
    'vitalSignsPanel',
    'vitals:read',
    'query ($id: ID!) { vitalSignsPanel(id: $id) { id } }',
    (ids) => ({ id: ids.panel }),
  ],
  [
    'latestVitals',
    'vitals:read',
    'query ($id: ID!) { patient(id: $id) { latestVitals { heartRate { value } } } }',
    (ids) => ({ id: ids.patient }),
  ],
  [
    'vitalSigns',
    'vitals:read',
    'query ($id: ID!) { patient(id: $id) { vitalSigns { totalCount } } }',
    (ids) => ({ id: ids.patient }),
  ],
  [
    'growth',
    'vitals:read',
    'query ($id: ID!) { patient(id: $id) { growth { bodyWeight { value } } } }',
    (ids) => ({ id: ids.patient }),
  ],
  [
    'recordVitalSigns',
    'vitals:write',
    RECORD_VITALS,
    (ids) => ({
      input: { patientId: ids.patient, effectiveAt: minutesAgo(1), heartRate: { value: 70, unit: '/min' } },
    }),
  ],
  [
    'markVitalSignsEnteredInError',
    'vitals:write',
    'mutation ($id: ID!) { markVitalSignsEnteredInError(id: $id, reason: "Wrong") { id } }',
    (ids) => ({ id: ids.panel }),
  ],
  [
    'allergyIntolerance',
    'allergy:read',
    'query ($id: ID!) { allergyIntolerance(id: $id) { id } }',
    (ids) => ({ id: ids.allergy }),
  ],
  [
    'allergies',
    'allergy:read',
    'query ($id: ID!) { patient(id: $id) { allergies { id } } }',
    (ids) => ({ id: ids.patient }),
  ],
  [
    'recordAllergy',
    'allergy:write',
    RECORD_ALLERGY,
    (ids) => ({ input: { patientId: ids.patient, category: 'FOOD', substance: { display: 'Milk' } } }),
  ],
  [
    'updateAllergyStatus',
    'allergy:write',
    'mutation ($id: ID!) { updateAllergyStatus(id: $id, input: { clinicalStatus: RESOLVED, reason: "Gone" }) { id } }',
    (ids) => ({ id: ids.allergy }),
  ],
  ['problem', 'problem:read', 'query ($id: ID!) { problem(id: $id) { id } }', (ids) => ({ id: ids.problem })],
  [
    'problems',
    'problem:read',
    'query ($id: ID!) { patient(id: $id) { problems { id } } }',
    (ids) => ({ id: ids.patient }),
  ],
  [
    'addProblem',
    'problem:write',
    ADD_PROBLEM,
    (ids) => ({ input: { patientId: ids.patient, condition: { display: 'Cough' } } }),
  ],
  [
    'resolveProblem',
    'problem:write',
    'mutation ($id: ID!) { resolveProblem(id: $id) { id } }',
    (ids) => ({ id: ids.problem }),
  ],
  [
    'recordProblemRecurrence',
    'problem:write',
    'mutation ($id: ID!) { recordProblemRecurrence(id: $id) { id } }',
    (ids) => ({ id: ids.problem }),
  ],
  [
    'prescription',
    'prescription:read',
    'query ($id: ID!) { prescription(id: $id) { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
  [
    'prescriptions',
    'prescription:read',
    'query ($id: ID!) { patient(id: $id) { prescriptions { id } } }',
    (ids) => ({ id: ids.patient }),
  ],
  [
    'issuePrescription',
    'prescription:write',
    ISSUE_PRESCRIPTION,
    (ids) => ({ input: amoxicillinInput(ids.patient) }),
  ],
  [
    'stopPrescription',
    'prescription:write',
    'mutation ($id: ID!) { stopPrescription(id: $id, reason: "Stop") { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
  [
    'completePrescription',
    'prescription:write',
    'mutation ($id: ID!) { completePrescription(id: $id) { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
  [
    'cancelPrescription',
    'prescription:write',
    'mutation ($id: ID!) { cancelPrescription(id: $id, reason: "Cancel") { id } }',
    (ids) => ({ id: ids.prescription }),
  ],
];

describe('permissions on patient records', () => {
  let harness: ClinicalHarness;
  let tenantId: string;
  let ids: RecordIds;

  before(async () => {
    harness = await startHarness();
    tenantId = newId();
    ids = await createRecords(harness, await harness.token(tenantId, DOCTOR_PERMISSIONS));
  });

  after(async () => {
    await harness?.stop();
  });

  for (const [name, permission, operation, variablesOf] of OPERATIONS) {
    test(`${name}: front desk forbidden`, async () => {
      const token = await harness.token(tenantId, FRONT_DESK_PERMISSIONS);

      const { body } = await harness.graphql(operation, variablesOf(ids), token);

      assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
      assert.equal(body.errors?.[0]?.extensions?.permission, permission);
    });

    const nurseMay = NURSE_PERMISSIONS.includes(permission);
    test(`${name}: nurse ${nurseMay ? 'allowed' : 'forbidden'}`, async () => {
      const token = await harness.token(tenantId, NURSE_PERMISSIONS);
      // Each allowed write gets records of its own, so that state changes do not affect other cases.
      const own = nurseMay
        ? await createRecords(harness, await harness.token(tenantId, DOCTOR_PERMISSIONS))
        : ids;

      const { body } = await harness.graphql(operation, variablesOf(own), token);

      if (nurseMay) {
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      } else {
        assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
      }
    });
  }

  test('anonymous caller unauthenticated', async () => {
    const { body } = await harness.graphql('query ($id: ID!) { problem(id: $id) { id } }', {
      id: ids.problem,
    });

    assert.deepEqual(errorCodes(body), ['UNAUTHENTICATED']);
  });
});
