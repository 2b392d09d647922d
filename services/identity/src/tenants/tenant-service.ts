import {
  decodeCursor,
  encodeCursor,
  HmsError,
  InputErrors,
  inPlatformTransaction,
  inTenantTransaction,
  isUuid,
  newId,
  pageSize,
  toConnection,
  type Connection,
  type EventOrigin,
  type TenantStatus,
} from '@hms/service-kit';
import {
  Operation,
  TenantCreatedSchema,
  TenantSettingsChangedSchema,
  TenantStatus as TenantStatusMessage,
  TenantStatusChangedSchema,
} from '@hms/proto-schemas';
import type { IdentityDeps } from '../deps.js';
import { emit, SYSTEM_ORIGIN } from '../events.js';
import { violatedUniqueConstraint } from '../db-errors.js';
import { Tenant, TENANT_STATUSES } from '../entities/tenant.js';
import { TENANT_ADMIN_ROLE } from '../roles/permissions.js';
import { createBuiltInRoles } from '../roles/role-service.js';
import { normalizeEmail } from '../users/contact.js';
import { checkPasswordRules } from '../users/password-policy.js';
import { checkNames, emitUserCreated, insertUser } from '../users/user-service.js';
import {
  checkRange,
  checkSlug,
  DEFAULT_TENANT_SETTINGS,
  isCurrencyCode,
  isTimeZoneName,
  SETTING_RANGES,
} from './settings.js';
import { publishTenantStatus } from './tenant-status.js';

export interface CreateTenantInput {
  slug: string;
  name: string;
  timeZone: string;
  currency: string;
  admin: { name: string; email: string; password: string };
}

export interface UpdateTenantSettingsInput {
  readAuditEnabled?: boolean | null;
  ageOfMajority?: number | null;
  passwordPolicy?: {
    minLength?: number | null;
    historyCount?: number | null;
    maxAgeDays?: number | null;
    lockoutThreshold?: number | null;
    lockoutMinutes?: number | null;
  } | null;
  inactiveUserDisableDays?: number | null;
  patientSelfRegistration?: boolean | null;
}

/** Tenants: onboarding by platform operators, status changes, and settings by tenant administrators. */
export class TenantService {
  constructor(private readonly deps: IdentityDeps) {}

  async get(id: string): Promise<Tenant | null> {
    if (!isUuid(id)) return null;
    return inPlatformTransaction(this.deps.orm, (em) => em.findOne(Tenant, { id }));
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Tenant>> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return new Map();
    const tenants = await inPlatformTransaction(this.deps.orm, (em) =>
      em.find(Tenant, { id: { $in: valid } }),
    );
    return new Map(tenants.map((tenant) => [tenant.id, tenant]));
  }

  /** Tenants by slug, for platform operators. */
  async list(args: {
    status?: TenantStatus | null;
    first?: number | null;
    after?: string | null;
  }): Promise<Connection<Tenant>> {
    const size = pageSize(args.first);
    const cursor = decodeCursor(args.after, 1);
    const where = args.status ? { status: args.status } : {};
    return inPlatformTransaction(this.deps.orm, async (em) => {
      const totalCount = await em.count(Tenant, where);
      const page = cursor ? { ...where, slug: { $gt: String(cursor[0]) } } : where;
      const rows = await em.find(Tenant, page, { orderBy: { slug: 'asc' }, limit: size + 1 });
      return toConnection(
        rows,
        size,
        totalCount,
        (tenant) => encodeCursor([tenant.slug]),
        cursor !== undefined,
      );
    });
  }

  /**
   * Creates a tenant with its built-in roles and its first tenant administrator in one transaction, so a
   * tenant never exists without someone able to administer it.
   */
  async create(
    input: CreateTenantInput,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<{ tenant: Tenant; adminUserId: string }> {
    const errors = new InputErrors();
    const slug = input.slug.trim();
    checkSlug(errors, 'input.slug', slug);
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200) errors.add('input.name', 'must be 1 to 200 characters');
    const timeZone = input.timeZone.trim();
    if (!isTimeZoneName(timeZone))
      errors.add('input.timeZone', 'must be an IANA time zone name, such as Asia/Kolkata');
    const currency = input.currency.trim();
    if (!isCurrencyCode(currency))
      errors.add('input.currency', 'must be an ISO 4217 currency code, such as INR');
    const adminNames = checkNames(errors, 'input.admin', { displayName: input.admin.name });
    const adminEmail = normalizeEmail(errors, 'input.admin.email', input.admin.email);
    checkPasswordRules(
      errors,
      'input.admin.password',
      input.admin.password,
      { minLength: DEFAULT_TENANT_SETTINGS.passwordMinLength },
      [adminEmail],
    );
    errors.throwIfAny();

    const passwordHash = await this.deps.passwords.hash(input.admin.password);
    const tenantId = newId();
    const now = new Date();
    let created: { tenant: Tenant; adminUserId: string };
    try {
      created = await inTenantTransaction(this.deps.orm, tenantId, async (em) => {
        const tenant = em.create(Tenant, {
          id: tenantId,
          slug,
          name,
          status: 'active',
          statusReason: null,
          statusChangedAt: now,
          timeZone,
          currency,
          ...DEFAULT_TENANT_SETTINGS,
          createdAt: now,
          updatedAt: now,
        });
        const roles = createBuiltInRoles(em, tenantId, now);
        const adminRole = roles.get(TENANT_ADMIN_ROLE);
        const admin = insertUser(
          em,
          tenantId,
          { ...adminNames, email: adminEmail ?? null, phone: null, passwordHash },
          adminRole ? [adminRole] : [],
          now,
        );
        await emit(
          em,
          origin,
          {
            type: 'identity.tenant.created',
            tenantId,
            subject: { type: 'Tenant', id: tenantId },
            payloadSchema: TenantCreatedSchema,
            payload: {
              tenantId,
              slug,
              status: TenantStatusMessage.ACTIVE,
              ...sharedSettingsOf(tenant),
            },
          },
          { action: 'tenant.create', operation: Operation.CREATE },
        );
        await emitUserCreated(em, origin, admin, adminRole ? [adminRole] : []);
        return { tenant, adminUserId: admin.id };
      });
    } catch (error) {
      if (violatedUniqueConstraint(error) === 'tenants_slug_key') {
        throw HmsError.conflict(`The slug ${slug} is taken by another tenant.`, { field: 'input.slug' });
      }
      throw error;
    }

    await publishTenantStatus(this.deps, tenantId, 'active');
    this.deps.logger.info(
      { tenantId, slug },
      'Created a tenant with its built-in roles and first administrator.',
    );
    return created;
  }

  /**
   * Suspends, reactivates or offboards a tenant. The gateway reads the new status from Redis at once;
   * identity refuses sign-in and refresh for a tenant that is not active. Offboarding is final.
   */
  async setStatus(
    id: string,
    status: TenantStatus,
    reason: string,
    operatorId: string,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<Tenant> {
    const errors = new InputErrors();
    const cleanReason = reason.trim();
    if (cleanReason.length < 3 || cleanReason.length > 500)
      errors.add('reason', 'must be 3 to 500 characters');
    if (!(TENANT_STATUSES as readonly string[]).includes(status))
      errors.add('status', 'is not a tenant status');
    errors.throwIfAny();
    if (!isUuid(id)) throw HmsError.notFound('Tenant', id);

    // A transaction of the tenant itself, because its outbox rows are under the tenant's row-level
    // security; the tenant's own row is visible there as well.
    const tenant = await inTenantTransaction(this.deps.orm, id, async (em) => {
      const tenant = await em.findOne(Tenant, { id });
      if (!tenant) throw HmsError.notFound('Tenant', id);
      if (tenant.status === 'offboarded' && status !== 'offboarded') {
        throw HmsError.conflict(
          'An offboarded tenant cannot be reactivated or suspended; its data is being removed.',
        );
      }
      const now = new Date();
      const oldStatus = tenant.status;
      tenant.status = status;
      tenant.statusReason = cleanReason;
      tenant.statusChangedAt = now;
      tenant.updatedAt = now;
      await emit(
        em,
        origin,
        {
          type: 'identity.tenant.status_changed',
          tenantId: id,
          subject: { type: 'Tenant', id },
          payloadSchema: TenantStatusChangedSchema,
          payload: {
            tenantId: id,
            oldStatus: TENANT_STATUS_MESSAGES[oldStatus],
            newStatus: TENANT_STATUS_MESSAGES[status],
            reason: cleanReason,
          },
        },
        {
          action: 'tenant.status_change',
          operation: Operation.UPDATE,
          changedFields: ['status'],
          reason: cleanReason,
        },
      );
      return tenant;
    });

    await publishTenantStatus(this.deps, id, status);
    this.deps.logger.info({ tenantId: id, status, operatorId }, 'Changed the status of a tenant.');
    return tenant;
  }

  /** Changes the settings of the caller's tenant; absent fields stay as they are. */
  async updateSettings(
    tenantId: string,
    input: UpdateTenantSettingsInput,
    origin: EventOrigin = SYSTEM_ORIGIN,
  ): Promise<Tenant> {
    const errors = new InputErrors();
    const policy = input.passwordPolicy ?? {};
    checkRange(errors, 'input.ageOfMajority', input.ageOfMajority, SETTING_RANGES.ageOfMajority);
    checkRange(errors, 'input.passwordPolicy.minLength', policy.minLength, SETTING_RANGES.passwordMinLength);
    checkRange(
      errors,
      'input.passwordPolicy.historyCount',
      policy.historyCount,
      SETTING_RANGES.passwordHistoryCount,
    );
    checkRange(
      errors,
      'input.passwordPolicy.maxAgeDays',
      policy.maxAgeDays,
      SETTING_RANGES.passwordMaxAgeDays,
    );
    checkRange(
      errors,
      'input.passwordPolicy.lockoutThreshold',
      policy.lockoutThreshold,
      SETTING_RANGES.lockoutThreshold,
    );
    checkRange(
      errors,
      'input.passwordPolicy.lockoutMinutes',
      policy.lockoutMinutes,
      SETTING_RANGES.lockoutMinutes,
    );
    checkRange(
      errors,
      'input.inactiveUserDisableDays',
      input.inactiveUserDisableDays,
      SETTING_RANGES.inactiveUserDisableDays,
    );
    errors.throwIfAny();

    return inTenantTransaction(this.deps.orm, tenantId, async (em) => {
      const tenant = await em.findOne(Tenant, { id: tenantId });
      if (!tenant) throw HmsError.notFound('Tenant', tenantId);
      const before = settingsOf(tenant);
      if (input.readAuditEnabled != null) tenant.readAuditEnabled = input.readAuditEnabled;
      if (input.ageOfMajority != null) tenant.ageOfMajority = input.ageOfMajority;
      if (policy.minLength != null) tenant.passwordMinLength = policy.minLength;
      if (policy.historyCount != null) tenant.passwordHistoryCount = policy.historyCount;
      if (policy.maxAgeDays != null) tenant.passwordMaxAgeDays = policy.maxAgeDays;
      if (policy.lockoutThreshold != null) tenant.lockoutThreshold = policy.lockoutThreshold;
      if (policy.lockoutMinutes != null) tenant.lockoutMinutes = policy.lockoutMinutes;
      if (input.inactiveUserDisableDays != null)
        tenant.inactiveUserDisableDays = input.inactiveUserDisableDays;
      if (input.patientSelfRegistration != null)
        tenant.patientSelfRegistration = input.patientSelfRegistration;
      tenant.updatedAt = new Date();

      const after = settingsOf(tenant);
      const changedSettings = Object.keys(after).filter(
        (name) => before[name as keyof typeof before] !== after[name as keyof typeof after],
      );
      // Settings decide who may sign in and what is audited, so their changes count as permission changes.
      await emit(
        em,
        origin,
        {
          type: 'identity.tenant.settings_changed',
          tenantId,
          subject: { type: 'Tenant', id: tenantId },
          payloadSchema: TenantSettingsChangedSchema,
          payload: { tenantId, changedSettings, ...sharedSettingsOf(tenant) },
        },
        {
          action: 'tenant.settings_change',
          operation: Operation.PERMISSION_CHANGE,
          changedFields: changedSettings,
        },
      );
      return tenant;
    });
  }
}

const TENANT_STATUS_MESSAGES: Record<TenantStatus, TenantStatusMessage> = {
  active: TenantStatusMessage.ACTIVE,
  suspended: TenantStatusMessage.SUSPENDED,
  offboarded: TenantStatusMessage.OFFBOARDED,
};

/**
 * Returns the values of the settings other services keep a copy of. Both tenant events carry all of
 * them, so any one event gives a consumer the full state without a call back to identity.
 */
function sharedSettingsOf(tenant: Tenant) {
  return {
    readAuditEnabled: tenant.readAuditEnabled,
    ageOfMajority: tenant.ageOfMajority,
    timeZone: tenant.timeZone,
  };
}

/** Returns the settings a tenant administrator may change, by the names settings_changed reports. */
function settingsOf(tenant: Tenant) {
  return {
    readAuditEnabled: tenant.readAuditEnabled,
    ageOfMajority: tenant.ageOfMajority,
    inactiveUserDisableDays: tenant.inactiveUserDisableDays,
    patientSelfRegistration: tenant.patientSelfRegistration,
    'passwordPolicy.minLength': tenant.passwordMinLength,
    'passwordPolicy.historyCount': tenant.passwordHistoryCount,
    'passwordPolicy.maxAgeDays': tenant.passwordMaxAgeDays,
    'passwordPolicy.lockoutThreshold': tenant.lockoutThreshold,
    'passwordPolicy.lockoutMinutes': tenant.lockoutMinutes,
  };
}
