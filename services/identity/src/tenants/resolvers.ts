import {
  HmsError,
  requirePermission,
  requirePrincipal,
  requireTenant,
  type SubgraphContext,
  type TenantStatus,
} from '@hms/service-kit';
import type { Tenant } from '../entities/tenant.js';
import { tenantLoader } from '../graphql/loaders.js';
import { viewerOf } from '../graphql/viewer.js';
import { requirePlatformOperator } from '../platform/guards.js';
import type { IdentityServices } from '../services.js';
import type { CreateTenantInput, UpdateTenantSettingsInput } from './tenant-service.js';

/** Tells whether the viewer may see a tenant's metadata: platform operators any tenant, users their own. */
function maySeeTenant(context: SubgraphContext, tenantId: string): boolean {
  const viewer = viewerOf(context);
  return !!viewer && (viewer.platform || viewer.tenantId === tenantId);
}

export function tenantResolvers(services: IdentityServices) {
  return {
    TenantStatus: { ACTIVE: 'active', SUSPENDED: 'suspended', OFFBOARDED: 'offboarded' },

    Query: {
      tenants: (
        _: unknown,
        args: { status?: TenantStatus | null; first?: number | null; after?: string | null },
        context: SubgraphContext,
      ) => {
        requirePlatformOperator(context, 'tenant:read');
        return services.tenants.list(args);
      },
      tenant: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePrincipal(context);
        if (!maySeeTenant(context, args.id)) return null;
        return tenantLoader(context, services).load(args.id);
      },
    },

    Mutation: {
      createTenant: (_: unknown, args: { input: CreateTenantInput }, context: SubgraphContext) => {
        requirePlatformOperator(context, 'tenant:create');
        return services.tenants.create(args.input, context);
      },
      setTenantStatus: (
        _: unknown,
        args: { id: string; status: TenantStatus; reason: string },
        context: SubgraphContext,
      ) => {
        const operator = requirePlatformOperator(context, 'tenant:manage');
        return services.tenants.setStatus(args.id, args.status, args.reason, operator.subject, context);
      },
      updateTenantSettings: (
        _: unknown,
        args: { input: UpdateTenantSettingsInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, 'tenant:manage_settings');
        return services.tenants.updateSettings(requireTenant(context), args.input, context);
      },
    },

    Tenant: {
      __resolveReference: (reference: { id: string }, context: SubgraphContext) => {
        if (!maySeeTenant(context, reference.id)) return null;
        return tenantLoader(context, services).load(reference.id);
      },
      statusReason: (tenant: Tenant, _: unknown, context: SubgraphContext) => {
        const viewer = viewerOf(context);
        if (viewer?.platform || (viewer?.tenantId === tenant.id && viewer.has('tenant:manage_settings')))
          return tenant.statusReason;
        return null;
      },
      settings: (tenant: Tenant, _: unknown, context: SubgraphContext) => {
        const viewer = viewerOf(context);
        if (!viewer?.platform && !(viewer?.tenantId === tenant.id && viewer.has('tenant:read')))
          throw HmsError.forbidden('tenant:read');
        return {
          readAuditEnabled: tenant.readAuditEnabled,
          ageOfMajority: tenant.ageOfMajority,
          inactiveUserDisableDays: tenant.inactiveUserDisableDays,
          patientSelfRegistration: tenant.patientSelfRegistration,
          passwordPolicy: {
            minLength: tenant.passwordMinLength,
            historyCount: tenant.passwordHistoryCount,
            maxAgeDays: tenant.passwordMaxAgeDays,
            lockoutThreshold: tenant.lockoutThreshold,
            lockoutMinutes: tenant.lockoutMinutes,
          },
        };
      },
    },
  };
}
