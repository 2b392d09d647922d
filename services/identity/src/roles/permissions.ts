/**
 * Every permission of HMS. Other services check these names in the `perms` claim, so a name is never
 * renamed or reused. A new permission is added here and to the roles that should have it.
 */
export const PERMISSIONS = [
  'tenant:read',
  'tenant:manage_settings',
  'user:read',
  'user:manage',
  'role:manage',
  'patient:read',
  'patient:write',
  'encounter:read',
  'encounter:write',
  'note:read',
  'note:write',
  'nursing_note:write',
  'vitals:read',
  'vitals:write',
  'allergy:read',
  'allergy:write',
  'problem:read',
  'problem:write',
  'prescription:read',
  'prescription:write',
  'ward:manage',
  'admission:write',
  'bed:update',
  'appointment:read',
  'appointment:write',
  'schedule:read',
  'schedule:manage',
  'invoice:read',
  'invoice:write',
  'payment:write',
  'lab_order:read',
  'lab_order:write',
  'lab_result:read',
  'lab_result:write',
  'lab_result:verify',
  'document:read',
  'document:write',
  'audit:read',
  'incident:report',
  'incident:manage',
  'deletion_request:create',
  'deletion_request:approve',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const KNOWN = new Set<string>(PERMISSIONS);

export function isPermission(value: string): value is Permission {
  return KNOWN.has(value);
}

/** Permissions of platform operators: tenant onboarding and status, never tenant data. */
export const PLATFORM_PERMISSIONS = ['tenant:create', 'tenant:read', 'tenant:manage'] as const;
export const PLATFORM_OPERATOR_ROLE = 'platform_operator';

/** Every staff member may read their tenant's settings (time zone, currency) and report an incident. */
const STAFF_BASELINE: Permission[] = ['tenant:read', 'incident:report'];

export interface BuiltInRole {
  description: string;
  permissions: readonly Permission[];
}

/**
 * The roles every tenant starts with. Their permissions live here, not in the database, so changing a
 * list changes it for every tenant at the next token refresh. Tenants who need a different mix create
 * a custom role rather than editing these.
 */
export const BUILT_IN_ROLES = {
  tenant_admin: {
    description:
      'Administers the tenant: settings, users, roles, audit and deletion requests. Writes no clinical notes.',
    permissions: [
      ...STAFF_BASELINE,
      'tenant:manage_settings',
      'user:read',
      'user:manage',
      'role:manage',
      'patient:read',
      'patient:write',
      'ward:manage',
      'appointment:read',
      'schedule:read',
      'schedule:manage',
      'invoice:read',
      'document:read',
      'audit:read',
      'incident:manage',
      'deletion_request:create',
      'deletion_request:approve',
    ],
  },
  doctor: {
    description:
      'Examines and treats patients: encounters, notes, prescriptions, lab orders and result verification.',
    permissions: [
      ...STAFF_BASELINE,
      'patient:read',
      'patient:write',
      'encounter:read',
      'encounter:write',
      'note:read',
      'note:write',
      'nursing_note:write',
      'vitals:read',
      'vitals:write',
      'allergy:read',
      'allergy:write',
      'problem:read',
      'problem:write',
      'prescription:read',
      'prescription:write',
      'admission:write',
      'appointment:read',
      'appointment:write',
      'schedule:read',
      'lab_order:read',
      'lab_order:write',
      'lab_result:read',
      'lab_result:verify',
      'document:read',
      'document:write',
    ],
  },
  nurse: {
    description:
      'Cares for patients: reads their record, writes nursing notes, vital signs and allergies, turns beds over.',
    permissions: [
      ...STAFF_BASELINE,
      'patient:read',
      'encounter:read',
      'note:read',
      'nursing_note:write',
      'vitals:read',
      'vitals:write',
      'allergy:read',
      'allergy:write',
      'problem:read',
      'prescription:read',
      'admission:write',
      'bed:update',
      'appointment:read',
      'schedule:read',
    ],
  },
  front_desk: {
    description: 'Registers patients, books appointments and admits patients to free beds.',
    permissions: [
      ...STAFF_BASELINE,
      'patient:read',
      'patient:write',
      'admission:write',
      'bed:update',
      'appointment:read',
      'appointment:write',
      'schedule:read',
    ],
  },
  billing_clerk: {
    description: 'Issues invoices and records payments.',
    permissions: [
      ...STAFF_BASELINE,
      'patient:read',
      'appointment:read',
      'invoice:read',
      'invoice:write',
      'payment:write',
    ],
  },
  lab_technician: {
    description: 'Processes lab orders and enters results; a doctor verifies them.',
    permissions: [...STAFF_BASELINE, 'patient:read', 'lab_order:read', 'lab_result:read', 'lab_result:write'],
  },
  support: {
    description: 'Helps staff with their accounts and files deletion requests on behalf of requesters.',
    permissions: [...STAFF_BASELINE, 'user:read', 'deletion_request:create'],
  },
} as const satisfies Record<string, BuiltInRole>;

export type BuiltInRoleName = keyof typeof BUILT_IN_ROLES;

export const TENANT_ADMIN_ROLE: BuiltInRoleName = 'tenant_admin';

export function isBuiltInRoleName(name: string): name is BuiltInRoleName {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}

/** Returns the permissions a role grants: the code's list for built-in roles, the stored list for custom ones. */
export function permissionsOfRole(role: {
  name: string;
  builtIn: boolean;
  permissions: string[];
}): readonly string[] {
  if (role.builtIn && isBuiltInRoleName(role.name)) return BUILT_IN_ROLES[role.name].permissions;
  return role.permissions.filter(isPermission);
}
