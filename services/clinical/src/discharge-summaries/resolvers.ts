import {
  inTenantTransaction,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { DischargeSummary } from '../entities/discharge-summary.js';
import type { DischargeSummaryVersion } from '../entities/discharge-summary-version.js';
import { actorOf, ENCOUNTER_WRITE, tenantWith } from '../encounters/access.js';
import { loadersOf } from '../encounters/loaders.js';
import {
  amendDischargeSummary,
  createDischargeSummary,
  signDischargeSummary,
  updateDischargeSummaryDraft,
  type SummaryContentInput,
} from './store.js';

/** Resolvers of discharge summaries. Writing needs encounter:write. They are read through Encounter. */
export function dischargeSummaryResolvers(orm: MikroORM) {
  const write = <T>(context: SubgraphContext, work: (em: EntityManager, tenantId: string) => Promise<T>) => {
    const tenantId = tenantWith(context, ENCOUNTER_WRITE);
    return inTenantTransaction(orm, tenantId, (em) => work(em, tenantId));
  };
  const versionsOf = (summary: DischargeSummary, context: SubgraphContext) =>
    loadersOf(context, orm, summary.tenantId).summaryVersions.load(summary.id);
  const latestVersion = async (summary: DischargeSummary, context: SubgraphContext) => {
    const versions = await versionsOf(summary, context);
    return versions.find((version) => version.version === summary.currentVersion)!;
  };
  const latest = async (summary: DischargeSummary, context: SubgraphContext) =>
    (await latestVersion(summary, context)).content;
  /** Returns the current version when it is an amendment, or undefined for version 1. */
  const currentAmendment = (summary: DischargeSummary, context: SubgraphContext) =>
    summary.currentVersion > 1 ? latestVersion(summary, context) : Promise.resolve(undefined);

  return {
    Mutation: {
      createDischargeSummary: (
        _: unknown,
        args: { encounterId: string; content: SummaryContentInput },
        context: SubgraphContext,
      ) =>
        write(context, (em, tenantId) =>
          createDischargeSummary(em, tenantId, args.encounterId, args.content, new Date(), actorOf(context)),
        ),
      updateDischargeSummaryDraft: (
        _: unknown,
        args: { id: string; content: SummaryContentInput },
        context: SubgraphContext,
      ) =>
        write(context, (em, tenantId) =>
          updateDischargeSummaryDraft(em, tenantId, args.id, args.content, new Date(), actorOf(context)),
        ),
      signDischargeSummary: (_: unknown, args: { id: string }, context: SubgraphContext) =>
        write(context, (em, tenantId) =>
          signDischargeSummary(em, tenantId, args.id, new Date(), actorOf(context)),
        ),
      amendDischargeSummary: (
        _: unknown,
        args: { id: string; content: SummaryContentInput; reason: string },
        context: SubgraphContext,
      ) =>
        write(context, (em, tenantId) =>
          amendDischargeSummary(
            em,
            tenantId,
            args.id,
            args.content,
            args.reason,
            new Date(),
            actorOf(context),
          ),
        ),
    },

    DischargeSummary: {
      encounter: (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        loadersOf(context, orm, summary.tenantId).encounter.load(summary.encounterId),
      author: (summary: DischargeSummary) => ({ id: summary.authorId }),
      signedBy: (summary: DischargeSummary) => (summary.signedBy ? { id: summary.signedBy } : null),
      version: (summary: DischargeSummary) => summary.currentVersion,
      amendedBy: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) => {
        const amendment = await currentAmendment(summary, context);
        return amendment ? { id: amendment.writtenBy } : null;
      },
      amendedAt: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        (await currentAmendment(summary, context))?.writtenAt ?? null,
      diagnoses: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        (await latest(summary, context)).diagnoses,
      procedures: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        (await latest(summary, context)).procedures,
      hospitalCourse: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        (await latest(summary, context)).hospitalCourse,
      medicationsOnDischarge: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        (await latest(summary, context)).medicationsOnDischarge,
      followUp: async (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        (await latest(summary, context)).followUp,
      versions: (summary: DischargeSummary, _: unknown, context: SubgraphContext) =>
        versionsOf(summary, context),
    },

    DischargeSummaryVersion: {
      diagnoses: (version: DischargeSummaryVersion) => version.content.diagnoses,
      procedures: (version: DischargeSummaryVersion) => version.content.procedures,
      hospitalCourse: (version: DischargeSummaryVersion) => version.content.hospitalCourse,
      medicationsOnDischarge: (version: DischargeSummaryVersion) => version.content.medicationsOnDischarge,
      followUp: (version: DischargeSummaryVersion) => version.content.followUp,
      writtenBy: (version: DischargeSummaryVersion) => ({ id: version.writtenBy }),
      amendmentReason: (version: DischargeSummaryVersion) => version.amendmentReason ?? null,
    },
  };
}
