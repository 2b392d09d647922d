import type { RegisterPatientInput } from '../patients/inputs.js';

/** Every field a Patient serves, for queries whose results are compared whole. */
export const PATIENT_FIELDS = `
  id mrn sex genderIdentity birthDate deceasedAt phone email isMinor ageOfMajority createdAt updatedAt
  name { given family prefix suffix text }
  address { lines city district state postalCode country }
  identifiers { type system value }
  guardians { id relationship phone email name { given family prefix suffix text } }
`;

export const REGISTER_PATIENT = `
  mutation Register($input: RegisterPatientInput!) {
    registerPatient(input: $input) { ${PATIENT_FIELDS} }
  }
`;

export const UPDATE_PATIENT = `
  mutation Update($id: ID!, $input: UpdatePatientInput!) {
    updatePatient(id: $id, input: $input) { ${PATIENT_FIELDS} }
  }
`;

export const GET_PATIENT = `
  query Get($id: ID!) {
    patient(id: $id) { ${PATIENT_FIELDS} }
  }
`;

export const SEARCH_PATIENTS = `
  query Search($search: String, $first: Int, $after: String) {
    patients(search: $search, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id mrn phone name { given family } } }
    }
  }
`;

/** Builds a valid adult registration; `overrides` replace whole fields. */
export function adultInput(overrides: Partial<RegisterPatientInput> = {}): RegisterPatientInput {
  return {
    name: { given: ['Ada'], family: 'Lovelace' },
    sex: 'FEMALE',
    birthDate: '1985-12-10',
    ...overrides,
  };
}

/** Returns the birth date of someone who turned `years` old `daysAgo` days before today (UTC). */
export function birthDateForAge(years: number, daysAgo = 30): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() - daysAgo);
  date.setUTCFullYear(date.getUTCFullYear() - years);
  return date.toISOString().slice(0, 10);
}

/** Lists the `field` of each invalid input a BAD_USER_INPUT error reports. */
export function invalidFields(body: { errors?: { extensions?: Record<string, unknown> }[] }): string[] {
  const fields = body.errors?.[0]?.extensions?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.map((entry: { field: string }) => entry.field);
}

/** Returns the message reported for one invalid input field. */
export function messageFor(
  body: { errors?: { extensions?: Record<string, unknown> }[] },
  field: string,
): string | undefined {
  const fields = body.errors?.[0]?.extensions?.fields;
  if (!Array.isArray(fields)) return undefined;
  return fields.find((entry: { field: string }) => entry.field === field)?.message;
}
