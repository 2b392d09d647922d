import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { GraphQLResponse } from '@hms/test-kit';
import type { ClinicalHarness } from '../../testing/harness.js';
import { adultInput, REGISTER_PATIENT } from '../../testing/fixtures.js';

/** Permissions of the built-in roles that the encounter area checks, as identity grants them. */
export const ROLE_PERMISSIONS = {
  doctor: [
    'patient:read',
    'patient:write',
    'encounter:read',
    'encounter:write',
    'note:read',
    'note:write',
    'nursing_note:write',
    'admission:write',
  ],
  nurse: [
    'patient:read',
    'encounter:read',
    'note:read',
    'nursing_note:write',
    'admission:write',
    'bed:update',
  ],
  front_desk: ['patient:read', 'patient:write', 'admission:write', 'bed:update'],
  tenant_admin: ['patient:read', 'patient:write', 'ward:manage'],
} as const;

export type Role = keyof typeof ROLE_PERMISSIONS;

/** One tenant of a test with a signed-in user per role. */
export interface TestTenant {
  tenantId: string;
  userIds: Record<Role, string>;
  tokens: Record<Role, string>;
}

/** Creates a tenant with random ids and one token per built-in role. */
export async function newTenant(harness: ClinicalHarness): Promise<TestTenant> {
  const tenantId = randomUUID();
  const userIds = {} as Record<Role, string>;
  const tokens = {} as Record<Role, string>;
  for (const role of Object.keys(ROLE_PERMISSIONS) as Role[]) {
    userIds[role] = randomUUID();
    tokens[role] = await harness.issuer.sign({
      tid: tenantId,
      sub: userIds[role],
      roles: [role],
      perms: [...ROLE_PERMISSIONS[role]],
    });
  }
  return { tenantId, userIds, tokens };
}

/** Posts an operation and fails the test on any error, returning the data. */
export async function ok<T = Record<string, unknown>>(
  harness: ClinicalHarness,
  query: string,
  variables: Record<string, unknown>,
  token: string,
): Promise<T> {
  const { body } = await harness.graphql<T>(query, variables, token);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!;
}

/** Returns the first error's code and extensions. */
export function firstError(body: GraphQLResponse<unknown>) {
  return body.errors?.[0]?.extensions ?? {};
}

export async function registerPatient(harness: ClinicalHarness, tenant: TestTenant): Promise<string> {
  const data = await ok<{ registerPatient: { id: string } }>(
    harness,
    REGISTER_PATIENT,
    { input: adultInput() },
    tenant.tokens.doctor,
  );
  return data.registerPatient.id;
}

export const ENCOUNTER_FIELDS = `
  id class status statusReason chiefComplaint startedAt endedAt sourceId
  patient { id }
  attending { id }
  department { id code name }
  diagnoses { id codeSystem code text primary sourceId recordedBy { id } }
`;

export const OPEN_ENCOUNTER = `
  mutation Open($input: OpenEncounterInput!) { openEncounter(input: $input) { ${ENCOUNTER_FIELDS} } }
`;

export const GET_ENCOUNTER = `
  query Get($id: ID!) { encounter(id: $id) { ${ENCOUNTER_FIELDS} } }
`;

export const CREATE_WARD = `
  mutation Ward($input: CreateWardInput!) {
    createWard(input: $input) { id code name beds { id code status } }
  }
`;

export const ADMISSION_FIELDS = `
  admittedAt dischargeOrderedAt dischargedAt dischargeOrderedBy { id }
  ward { id code } bed { id code status }
  assignments { id from to bed { id code } ward { id } }
`;

export const ADMIT = `
  mutation Admit($input: AdmitPatientInput!) {
    admitPatient(input: $input) { id class status admission { ${ADMISSION_FIELDS} } }
  }
`;

/** Creates a ward with beds and returns its id and bed ids by code. */
export async function createWard(
  harness: ClinicalHarness,
  tenant: TestTenant,
  bedCodes: string[],
  code = `W${randomUUID().slice(0, 6)}`,
): Promise<{ id: string; beds: Record<string, string> }> {
  const data = await ok<{ createWard: { id: string; beds: { id: string; code: string }[] } }>(
    harness,
    CREATE_WARD,
    { input: { code, name: `Ward ${code}`, bedCodes } },
    tenant.tokens.tenant_admin,
  );
  return {
    id: data.createWard.id,
    beds: Object.fromEntries(data.createWard.beds.map((bed) => [bed.code, bed.id])),
  };
}

/** Admits a patient to a bed as the doctor and returns the encounter id. */
export async function admit(
  harness: ClinicalHarness,
  tenant: TestTenant,
  patientId: string,
  bedId: string,
): Promise<string> {
  const data = await ok<{ admitPatient: { id: string } }>(
    harness,
    ADMIT,
    { input: { patientId, bedId } },
    tenant.tokens.doctor,
  );
  return data.admitPatient.id;
}
