import DataLoader from 'dataloader';
import {
  HmsError,
  inTenantTransaction,
  isUuid,
  memoize,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { RegisterPatientInput, UpdatePatientInput } from './inputs.js';
import { auditPatientReads } from './events.js';
import { searchPatients, type SearchArguments } from './search.js';
import { loadPatients, patientIdByIdentifier, registerPatient, updatePatient } from './store.js';
import type { PatientView } from './view.js';

export const PATIENT_READ = 'patient:read';
export const PATIENT_WRITE = 'patient:write';

/** Largest number of ids one batched query reads, to keep the `in` list and the result bounded. */
const MAX_BATCH = 500;

/**
 * Resolvers of the patient schema. Each one checks its permission first, then works inside one tenant
 * transaction taken from the verified token.
 */
export function patientResolvers(orm: MikroORM) {
  /**
   * The request's patient loader: every `patient` field and entity reference of one request is read in
   * one batch. It lives in the request's memo, so batches never mix requests or tenants.
   */
  const loaderOf = (context: SubgraphContext, tenantId: string) =>
    memoize(
      context,
      'patientLoader',
      () =>
        new DataLoader<string, PatientView | null>(
          async (ids) => {
            const views = await inTenantTransaction(orm, tenantId, async (em) => {
              const loaded = await loadPatients(em, ids, new Date());
              await auditPatientReads(em, context, tenantId, [...loaded.keys()]);
              return loaded;
            });
            return ids.map((id) => views.get(id) ?? null);
          },
          { maxBatchSize: MAX_BATCH },
        ),
    );

  return {
    Query: {
      patient: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, PATIENT_READ);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id');
        return loaderOf(context, tenantId).load(args.id);
      },

      patients: async (_: unknown, args: SearchArguments, context: SubgraphContext) => {
        requirePermission(context, PATIENT_READ);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, async (em) => {
          const page = await searchPatients(em, tenantId, args, new Date());
          await auditPatientReads(
            em,
            context,
            tenantId,
            page.edges.map((edge) => edge.node.id),
          );
          return page;
        });
      },

      patientByIdentifier: async (
        _: unknown,
        args: { system: string; value: string },
        context: SubgraphContext,
      ) => {
        requirePermission(context, PATIENT_READ);
        const tenantId = requireTenant(context);
        const id = await inTenantTransaction(orm, tenantId, (em) =>
          patientIdByIdentifier(em, args.system.trim(), args.value.trim()),
        );
        return id ? loaderOf(context, tenantId).load(id) : null;
      },
    },

    Mutation: {
      registerPatient: async (
        _: unknown,
        args: { input: RegisterPatientInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, PATIENT_WRITE);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, (em) =>
          registerPatient(em, tenantId, args.input, new Date(), context),
        );
      },

      updatePatient: async (
        _: unknown,
        args: { id: string; input: UpdatePatientInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, PATIENT_WRITE);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id');
        return inTenantTransaction(orm, tenantId, (em) =>
          updatePatient(em, tenantId, args.id, args.input, new Date(), context),
        );
      },
    },

    Patient: {
      /**
       * Resolves references from other subgraphs through the request's loader, so a list of N patients
       * costs one batch of queries. An id that is malformed or belongs to another tenant resolves to null.
       */
      __resolveReference: async (reference: { id: string }, context: SubgraphContext) => {
        requirePermission(context, PATIENT_READ);
        const tenantId = requireTenant(context);
        if (typeof reference.id !== 'string' || !isUuid(reference.id)) return null;
        return loaderOf(context, tenantId).load(reference.id);
      },
    },
  };
}

/** Rejects an id that is not a UUID before it reaches PostgreSQL, where it would fail as a type error. */
function assertId(id: string, field: string): void {
  if (!isUuid(id)) throw HmsError.badUserInput([{ field, message: 'must be a patient id (a UUID)' }]);
}
