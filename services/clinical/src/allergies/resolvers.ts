import {
  inTenantTransaction,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { AllergyClinicalStatus } from '../entities/allergy.js';
import { auditPatientReads } from '../patients/events.js';
import { assertUuid } from '../records/input.js';
import { patientFieldLoader } from '../records/loader.js';
import type { RecordAllergyInput, UpdateAllergyStatusInput } from './inputs.js';
import { allergiesOf, loadAllergies, recordAllergy, updateAllergyStatus } from './store.js';
import type { AllergyView } from './view.js';

export const ALLERGY_READ = 'allergy:read';
export const ALLERGY_WRITE = 'allergy:write';

/** Resolvers of the allergy schema; each checks its permission, then works in one tenant transaction. */
export function allergyResolvers(orm: MikroORM) {
  return {
    Query: {
      allergyIntolerance: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, ALLERGY_READ);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'an allergy');
        return inTenantTransaction(orm, tenantId, async (em) => {
          const allergy = (await loadAllergies(em, [args.id])).get(args.id) ?? null;
          if (allergy) await auditPatientReads(em, context, tenantId, [allergy.patientId]);
          return allergy;
        });
      },
    },

    Mutation: {
      recordAllergy: async (_: unknown, args: { input: RecordAllergyInput }, context: SubgraphContext) => {
        const principal = requirePermission(context, ALLERGY_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.input.patientId, 'input.patientId', 'a patient');
        return inTenantTransaction(orm, tenantId, (em) =>
          recordAllergy(em, tenantId, args.input, new Date(), context, principal.subject),
        );
      },

      updateAllergyStatus: async (
        _: unknown,
        args: { id: string; input: UpdateAllergyStatusInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, ALLERGY_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'an allergy');
        return inTenantTransaction(orm, tenantId, (em) =>
          updateAllergyStatus(em, tenantId, args.id, args.input, new Date(), context),
        );
      },
    },

    Patient: {
      allergies: async (
        patient: { id: string },
        args: { clinicalStatus?: AllergyClinicalStatus[] | null; includeEnteredInError?: boolean | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, ALLERGY_READ);
        const tenantId = requireTenant(context);
        const allergies = await patientFieldLoader(
          orm,
          context,
          tenantId,
          'allergies',
          allergiesOf,
          (): AllergyView[] => [],
        ).load(patient.id);
        const statuses = args.clinicalStatus?.length ? new Set<string>(args.clinicalStatus) : undefined;
        return allergies.filter(
          (allergy) =>
            (args.includeEnteredInError || allergy.verificationStatus !== 'ENTERED_IN_ERROR') &&
            (!statuses || (allergy.clinicalStatus !== null && statuses.has(allergy.clinicalStatus))),
        );
      },
    },
  };
}
