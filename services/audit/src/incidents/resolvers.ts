import {
  inTenantTransaction,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { requestAuditFields } from '../audit-context.js';
import type { SecurityIncident } from '../entities/security-incident.js';
import {
  listIncidents,
  reportIncident,
  resolveIncident,
  type ListIncidentsArguments,
  type ReportIncidentInput,
} from './store.js';

export const INCIDENT_REPORT = 'incident:report';
export const INCIDENT_MANAGE = 'incident:manage';

/** Resolvers of security incident reports. */
export function incidentResolvers(orm: MikroORM) {
  return {
    Query: {
      securityIncidents: async (_: unknown, args: ListIncidentsArguments, context: SubgraphContext) => {
        requirePermission(context, INCIDENT_MANAGE);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, (em) => listIncidents(em, args));
      },
    },

    Mutation: {
      reportSecurityIncident: async (
        _: unknown,
        args: { input: ReportIncidentInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, INCIDENT_REPORT);
        const tenantId = requireTenant(context);
        const request = requestAuditFields(context);
        return inTenantTransaction(orm, tenantId, (em) =>
          reportIncident(em, tenantId, request, args.input, new Date()),
        );
      },

      resolveSecurityIncident: async (
        _: unknown,
        args: { id: string; resolution: string },
        context: SubgraphContext,
      ) => {
        requirePermission(context, INCIDENT_MANAGE);
        const tenantId = requireTenant(context);
        const request = requestAuditFields(context);
        return inTenantTransaction(orm, tenantId, (em) =>
          resolveIncident(em, tenantId, request, args.id, args.resolution, new Date()),
        );
      },
    },

    // Users are identity's entities: a reference is all this subgraph returns for them.
    SecurityIncident: {
      reportedBy: (incident: SecurityIncident) => ({ __typename: 'User', id: incident.reportedBy }),
      resolvedBy: (incident: SecurityIncident) =>
        incident.resolvedBy ? { __typename: 'User', id: incident.resolvedBy } : null,
    },
  };
}
