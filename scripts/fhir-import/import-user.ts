// Provides the staff account that imports a population. No built-in role may
// both manage wards and write clinical records. The imported records also name
// the importing user as their recorder and prescriber, and as the attending of
// encounters whose practitioner is not looked up. So imports run as a user of
// their own, "FHIR import", with a custom role.
import { randomBytes } from 'node:crypto';
import { GatewayClient, GatewayError } from './gateway-client.js';

export const IMPORT_ROLE = 'fhir_import';
/**
 * Permissions the importer uses to register patients, record encounters,
 * stays and records, keep the import ward, and read the records of an
 * earlier run.
 */
export const IMPORT_PERMISSIONS = [
  'patient:read',
  'patient:write',
  'encounter:read',
  'encounter:write',
  'admission:write',
  'ward:manage',
  'vitals:read',
  'vitals:write',
  'allergy:read',
  'allergy:write',
  'problem:read',
  'problem:write',
  'prescription:read',
  'prescription:write',
];

export interface AdminCredentials {
  gatewayUrl: string;
  tenantSlug: string;
  /** A user with user:read, user:manage and role:manage, such as the tenant_admin. */
  email: string;
  password: string;
}

export interface ImportUser {
  email: string;
  password: string;
}

const ROLES = `query ImportRoles { roles { id name permissions } }`;
const CREATE_ROLE = `mutation ImportCreateRole($input: CreateRoleInput!) { createRole(input: $input) { id } }`;
const UPDATE_ROLE = `mutation ImportUpdateRole($id: ID!, $input: UpdateRoleInput!) { updateRole(id: $id, input: $input) { id } }`;
const USERS = `query ImportUsers($search: String) { users(search: $search, first: 10) { edges { node { id email roles } } } }`;
const CREATE_USER = `mutation ImportCreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const RESET_PASSWORD = `mutation ImportResetPassword($id: ID!, $password: String!) { resetUserPassword(id: $id, newPassword: $password) { id } }`;
const SET_ROLES = `mutation ImportSetRoles($id: ID!, $roles: [String!]!) { setUserRoles(id: $id, roles: $roles) { id } }`;
const CHANGE_PASSWORD = `mutation ImportChangePassword($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;

/**
 * Creates the role IMPORT_ROLE and the user fhir-import@<the admin's email
 * domain> when they are missing, gives the role every IMPORT_PERMISSIONS, and
 * sets a new random password, which it returns. Safe to run before every import.
 * An existing user must change the password the administrator resets, because
 * its tokens carry no permissions until then. So the user changes it to another
 * random one itself.
 */
export async function ensureImportUser(admin: AdminCredentials): Promise<ImportUser> {
  const client = new GatewayClient({
    url: admin.gatewayUrl,
    credentials: { tenantSlug: admin.tenantSlug, email: admin.email, password: admin.password },
  });
  await client.login();

  const roles = (
    await client.request<{ roles: { id: string; name: string; permissions: string[] }[] }>(ROLES, {})
  ).roles;
  const role = roles.find((candidate) => candidate.name === IMPORT_ROLE);
  if (!role) {
    await client.request(CREATE_ROLE, {
      input: {
        name: IMPORT_ROLE,
        description: 'Imports patients and their clinical history from FHIR bundles.',
        permissions: IMPORT_PERMISSIONS,
      },
    });
  } else if (IMPORT_PERMISSIONS.some((permission) => !role.permissions.includes(permission))) {
    const permissions = [...new Set([...role.permissions, ...IMPORT_PERMISSIONS])];
    await client.request(UPDATE_ROLE, { id: role.id, input: { permissions } });
  }

  const domain = admin.email.slice(admin.email.indexOf('@') + 1);
  const email = `fhir-import@${domain}`;
  // 24 random bytes: far above any tenant's minimum password length.
  const password = randomBytes(24).toString('base64url');
  const users = await client.request<{
    users: { edges: { node: { id: string; email: string | null; roles: string[] | null } }[] };
  }>(USERS, { search: email });
  const existing = users.users.edges.map((edge) => edge.node).find((user) => user.email === email);
  if (!existing) {
    try {
      await client.request(CREATE_USER, {
        input: { displayName: 'FHIR import', email, password, roles: [IMPORT_ROLE] },
      });
      return { email, password };
    } catch (error) {
      if (!(error instanceof GatewayError) || error.code !== 'CONFLICT') throw error;
      throw new Error(`${email} exists but is not listed to ${admin.email}: ${error.message}`);
    }
  }
  if (!existing.roles?.includes(IMPORT_ROLE)) {
    await client.request(SET_ROLES, { id: existing.id, roles: [...(existing.roles ?? []), IMPORT_ROLE] });
  }
  await client.request(RESET_PASSWORD, { id: existing.id, password });
  const own = randomBytes(24).toString('base64url');
  const importClient = new GatewayClient({
    url: admin.gatewayUrl,
    credentials: { tenantSlug: admin.tenantSlug, email, password },
  });
  await importClient.login();
  await importClient.request(CHANGE_PASSWORD, { current: password, next: own });
  return { email, password: own };
}
