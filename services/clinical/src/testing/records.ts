import assert from 'node:assert/strict';
import type { ClinicalHarness } from './harness.js';
import { adultInput, REGISTER_PATIENT } from './fixtures.js';
import type { RegisterPatientInput } from '../patients/inputs.js';

/** Every permission of a doctor over patients and their records. */
export const DOCTOR_PERMISSIONS = [
  'patient:read',
  'patient:write',
  'vitals:read',
  'vitals:write',
  'allergy:read',
  'allergy:write',
  'problem:read',
  'problem:write',
  'prescription:read',
  'prescription:write',
];

/** A nurse's permissions: records readable, vitals and allergies writable, no problem or prescription writes. */
export const NURSE_PERMISSIONS = [
  'patient:read',
  'patient:write',
  'vitals:read',
  'vitals:write',
  'allergy:read',
  'allergy:write',
  'problem:read',
  'prescription:read',
];

/** The front desk's permissions: demographics only. */
export const FRONT_DESK_PERMISSIONS = ['patient:read', 'patient:write'];

export const VITAL_SIGN_FIELDS = `
  id panelId patientId encounterId kind code display value unit effectiveAt status
  bmiHeightSource bmiHeightId original { value unit }
`;

export const PANEL_FIELDS = `
  id patientId encounterId effectiveAt status sourceId recordedAt recorder { id }
  enteredInErrorAt enteredInErrorReason enteredInErrorBy { id }
  measurements { ${VITAL_SIGN_FIELDS} }
`;

export const RECORD_VITALS = `
  mutation Record($input: RecordVitalSignsInput!) {
    recordVitalSigns(input: $input) { ${PANEL_FIELDS} }
  }
`;

export const MARK_VITALS_ENTERED_IN_ERROR = `
  mutation Mark($id: ID!, $reason: String!) {
    markVitalSignsEnteredInError(id: $id, reason: $reason) { ${PANEL_FIELDS} }
  }
`;

export const CONCEPT_FIELDS = 'system systemUri code display';

export const ALLERGY_FIELDS = `
  id patientId encounterId type category criticality clinicalStatus verificationStatus onsetAt note
  recordedAt recorder { id } statusReason sourceId updatedAt
  substance { ${CONCEPT_FIELDS} }
  reactions { severity description onsetAt manifestation { ${CONCEPT_FIELDS} } }
`;

export const RECORD_ALLERGY = `
  mutation RecordAllergy($input: RecordAllergyInput!) {
    recordAllergy(input: $input) { ${ALLERGY_FIELDS} }
  }
`;

export const UPDATE_ALLERGY_STATUS = `
  mutation UpdateAllergy($id: ID!, $input: UpdateAllergyStatusInput!) {
    updateAllergyStatus(id: $id, input: $input) { ${ALLERGY_FIELDS} }
  }
`;

export const PROBLEM_FIELDS = `
  id patientId encounterId status onsetAt resolvedAt note recordedAt recorder { id } sourceId updatedAt
  condition { ${CONCEPT_FIELDS} }
`;

export const ADD_PROBLEM = `
  mutation AddProblem($input: AddProblemInput!) {
    addProblem(input: $input) { ${PROBLEM_FIELDS} }
  }
`;

export const PRESCRIPTION_FIELDS = `
  id patientId encounterId route instructions status authoredAt prescriber { id } statusReason
  statusChangedAt allergyOverrideReason overriddenAllergyIds sourceId dosageRecorded
  medication { ${CONCEPT_FIELDS} }
  dose { value unit }
  frequency { timesPerPeriod period periodUnit asNeeded asNeededFor }
  duration { value unit }
  quantity { value unit }
`;

export const ISSUE_PRESCRIPTION = `
  mutation Issue($input: IssuePrescriptionInput!) {
    issuePrescription(input: $input) { ${PRESCRIPTION_FIELDS} }
  }
`;

/** Builds a valid prescription of amoxicillin 500 mg three times a day for 7 days. */
export function amoxicillinInput(patientId: string, overrides: Record<string, unknown> = {}) {
  return {
    patientId,
    medication: { system: 'RXNORM', code: '308182', display: 'Amoxicillin 500 MG Oral Capsule' },
    dose: { value: 500, unit: 'mg' },
    route: 'ORAL',
    frequency: { timesPerPeriod: 3, period: 1, periodUnit: 'DAY' },
    duration: { value: 7, unit: 'DAY' },
    quantity: { value: 21, unit: '{cap}' },
    instructions: 'Take with water',
    ...overrides,
  };
}

/** Registers a patient and returns its id; fails the test when registration fails. */
export async function registerPatient(
  harness: ClinicalHarness,
  token: string,
  overrides: Partial<RegisterPatientInput> = {},
): Promise<string> {
  const { body } = await harness.graphql<{ registerPatient: { id: string } }>(
    REGISTER_PATIENT,
    { input: adultInput(overrides) },
    token,
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!.registerPatient.id;
}

/** Returns an instant `minutes` minutes before now, as the DateTime scalar sends it. */
export function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

/** Ids of a patient and of one record of each type. */
export interface RecordIds {
  patient: string;
  panel: string;
  allergy: string;
  problem: string;
  prescription: string;
}

/** Creates one record of each type for a new patient of the token's tenant. */
export async function createRecords(
  harness: ClinicalHarness,
  token: string,
  sourceId?: string,
): Promise<RecordIds> {
  const patient = await registerPatient(harness, token);
  const source = (kind: string) => (sourceId ? `${sourceId}/${kind}` : undefined);
  const panel = await harness.graphql<{ recordVitalSigns: { id: string } }>(
    RECORD_VITALS,
    {
      input: {
        patientId: patient,
        effectiveAt: minutesAgo(5),
        sourceId: source('panel'),
        heartRate: { value: 70, unit: '/min' },
        bodyWeight: { value: 70, unit: 'kg' },
      },
    },
    token,
  );
  const allergy = await harness.graphql<{ recordAllergy: { id: string } }>(
    RECORD_ALLERGY,
    {
      input: {
        patientId: patient,
        sourceId: source('allergy'),
        category: 'FOOD',
        substance: { display: 'Peanuts' },
      },
    },
    token,
  );
  const problem = await harness.graphql<{ addProblem: { id: string } }>(
    ADD_PROBLEM,
    { input: { patientId: patient, sourceId: source('problem'), condition: { display: 'Asthma' } } },
    token,
  );
  const prescription = await harness.graphql<{ issuePrescription: { id: string } }>(
    ISSUE_PRESCRIPTION,
    { input: amoxicillinInput(patient, { sourceId: source('prescription') }) },
    token,
  );
  for (const body of [panel.body, allergy.body, problem.body, prescription.body]) {
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  }
  return {
    patient,
    panel: panel.body.data!.recordVitalSigns.id,
    allergy: allergy.body.data!.recordAllergy.id,
    problem: problem.body.data!.addProblem.id,
    prescription: prescription.body.data!.issuePrescription.id,
  };
}
