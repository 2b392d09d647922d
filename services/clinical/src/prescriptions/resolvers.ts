import {
  inTenantTransaction,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { PrescriptionStatus } from '../entities/prescription.js';
import { auditPatientReads } from '../patients/events.js';
import { assertUuid } from '../records/input.js';
import { patientFieldLoader } from '../records/loader.js';
import type { IssuePrescriptionInput } from './inputs.js';
import { changePrescriptionStatus, issuePrescription, loadPrescriptions, prescriptionsOf } from './store.js';
import type { PrescriptionView } from './view.js';

export const PRESCRIPTION_READ = 'prescription:read';
export const PRESCRIPTION_WRITE = 'prescription:write';

/** Resolvers of the prescription schema; each checks its permission, then works in one tenant transaction. */
export function prescriptionResolvers(orm: MikroORM) {
  /** Resolves one of the status mutations. */
  const changeStatus =
    (status: 'COMPLETED' | 'STOPPED' | 'CANCELLED') =>
    async (_: unknown, args: { id: string; reason?: string | null }, context: SubgraphContext) => {
      const principal = requirePermission(context, PRESCRIPTION_WRITE);
      const tenantId = requireTenant(context);
      assertUuid(args.id, 'id', 'a prescription');
      return inTenantTransaction(orm, tenantId, (em) =>
        changePrescriptionStatus(
          em,
          tenantId,
          args.id,
          status,
          args.reason ?? null,
          new Date(),
          context,
          principal.subject,
        ),
      );
    };

  return {
    Query: {
      prescription: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, PRESCRIPTION_READ);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'a prescription');
        return inTenantTransaction(orm, tenantId, async (em) => {
          const prescription = (await loadPrescriptions(em, [args.id])).get(args.id) ?? null;
          if (prescription) await auditPatientReads(em, context, tenantId, [prescription.patientId]);
          return prescription;
        });
      },
    },

    Mutation: {
      issuePrescription: async (
        _: unknown,
        args: { input: IssuePrescriptionInput },
        context: SubgraphContext,
      ) => {
        const principal = requirePermission(context, PRESCRIPTION_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.input.patientId, 'input.patientId', 'a patient');
        return inTenantTransaction(orm, tenantId, (em) =>
          issuePrescription(em, tenantId, args.input, new Date(), context, principal.subject),
        );
      },
      stopPrescription: changeStatus('STOPPED'),
      completePrescription: changeStatus('COMPLETED'),
      cancelPrescription: changeStatus('CANCELLED'),
    },

    Patient: {
      prescriptions: async (
        patient: { id: string },
        args: { status?: PrescriptionStatus[] | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, PRESCRIPTION_READ);
        const tenantId = requireTenant(context);
        const prescriptions = await patientFieldLoader(
          orm,
          context,
          tenantId,
          'prescriptions',
          prescriptionsOf,
          (): PrescriptionView[] => [],
        ).load(patient.id);
        const statuses = args.status?.length ? new Set<string>(args.status) : undefined;
        return statuses
          ? prescriptions.filter((prescription) => statuses.has(prescription.status))
          : prescriptions;
      },
    },
  };
}
