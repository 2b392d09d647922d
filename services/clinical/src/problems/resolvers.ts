import {
  inTenantTransaction,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { ProblemStatus } from '../entities/problem.js';
import { auditPatientReads } from '../patients/events.js';
import { assertUuid } from '../records/input.js';
import { patientFieldLoader } from '../records/loader.js';
import type { AddProblemInput } from './inputs.js';
import { addProblem, loadProblems, problemsOf, recordProblemRecurrence, resolveProblem } from './store.js';
import type { ProblemView } from './view.js';

export const PROBLEM_READ = 'problem:read';
export const PROBLEM_WRITE = 'problem:write';

/** Resolvers of the problem list; each checks its permission, then works in one tenant transaction. */
export function problemResolvers(orm: MikroORM) {
  return {
    Query: {
      problem: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, PROBLEM_READ);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'a problem');
        return inTenantTransaction(orm, tenantId, async (em) => {
          const problem = (await loadProblems(em, [args.id])).get(args.id) ?? null;
          if (problem) await auditPatientReads(em, context, tenantId, [problem.patientId]);
          return problem;
        });
      },
    },

    Mutation: {
      addProblem: async (_: unknown, args: { input: AddProblemInput }, context: SubgraphContext) => {
        const principal = requirePermission(context, PROBLEM_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.input.patientId, 'input.patientId', 'a patient');
        return inTenantTransaction(orm, tenantId, (em) =>
          addProblem(em, tenantId, args.input, new Date(), context, principal.subject),
        );
      },

      resolveProblem: async (
        _: unknown,
        args: { id: string; resolvedAt?: Date | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, PROBLEM_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'a problem');
        return inTenantTransaction(orm, tenantId, (em) =>
          resolveProblem(em, tenantId, args.id, args.resolvedAt, new Date(), context),
        );
      },

      recordProblemRecurrence: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, PROBLEM_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'a problem');
        return inTenantTransaction(orm, tenantId, (em) =>
          recordProblemRecurrence(em, tenantId, args.id, new Date(), context),
        );
      },
    },

    Patient: {
      problems: async (
        patient: { id: string },
        args: { status?: ProblemStatus[] | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, PROBLEM_READ);
        const tenantId = requireTenant(context);
        const problems = await patientFieldLoader(
          orm,
          context,
          tenantId,
          'problems',
          problemsOf,
          (): ProblemView[] => [],
        ).load(patient.id);
        const statuses = args.status?.length ? new Set<string>(args.status) : undefined;
        return statuses ? problems.filter((problem) => statuses.has(problem.status)) : problems;
      },
    },
  };
}
