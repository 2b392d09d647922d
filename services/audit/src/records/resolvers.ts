import DataLoader from 'dataloader';
import {
  inTenantTransaction,
  isUuid,
  memoize,
  pageSize,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { countHistories, selectHistories, type HistoryDimension } from './history.js';
import {
  countRecords,
  filterConditions,
  parseAuditCursor,
  recordConnection,
  selectRecords,
  type AuditRecordFilter,
  type AuditRecordView,
} from './query.js';
import { verifyChain } from './verify.js';

export const AUDIT_READ = 'audit:read';

/** Largest number of keys one batched history query reads. */
const MAX_BATCH = 200;

interface PageArguments {
  first?: number | null;
  after?: string | null;
}

/** One requested page of one key's history; requests with equal page arguments share a query. */
interface HistoryRequest {
  dimension: HistoryDimension;
  key: string;
  size: number;
  after: string | null;
}

/** Resolvers of the audit log: the filtered list, chain verification and the history fields of entities. */
export function auditRecordResolvers(orm: MikroORM) {
  /**
   * Loads history pages of one request in batches: all entities of a list that ask for the same page
   * size and cursor are read in one query. It lives in the request's memo, so batches never mix
   * requests or tenants.
   */
  const historyLoader = (context: SubgraphContext, tenantId: string) =>
    memoize(
      context,
      'historyLoader',
      () =>
        new DataLoader<HistoryRequest, AuditRecordView[], string>(
          async (requests) => {
            const groups = new Map<string, HistoryRequest[]>();
            for (const request of requests) {
              const group = JSON.stringify([request.dimension, request.size, request.after]);
              groups.set(group, [...(groups.get(group) ?? []), request]);
            }
            const pages = new Map<HistoryRequest, AuditRecordView[]>();
            await inTenantTransaction(orm, tenantId, async (em) => {
              for (const group of groups.values()) {
                const { dimension, size, after } = group[0]!;
                const keys = [...new Set(group.map((request) => request.key))];
                const found = await selectHistories(
                  em,
                  tenantId,
                  dimension,
                  keys,
                  parseAuditCursor(after),
                  size + 1,
                );
                for (const request of group) pages.set(request, found.get(request.key) ?? []);
              }
            });
            return requests.map((request) => pages.get(request) ?? []);
          },
          { maxBatchSize: MAX_BATCH, cacheKeyFn: (request) => JSON.stringify(request) },
        ),
    );

  const countLoader = (context: SubgraphContext, tenantId: string, dimension: HistoryDimension) =>
    memoize(
      context,
      `historyCountLoader:${dimension}`,
      () =>
        new DataLoader<string, number>(
          async (keys) => {
            const counts = await inTenantTransaction(orm, tenantId, (em) =>
              countHistories(em, tenantId, dimension, keys),
            );
            return keys.map((key) => counts.get(key) ?? 0);
          },
          { maxBatchSize: MAX_BATCH },
        ),
    );

  /** Resolves Patient.accessHistory and User.activity. */
  const history = async (
    context: SubgraphContext,
    dimension: HistoryDimension,
    key: string,
    args: PageArguments,
  ) => {
    requirePermission(context, AUDIT_READ);
    const tenantId = requireTenant(context);
    const size = pageSize(args.first);
    const after = args.after ?? null;
    const cursor = parseAuditCursor(after);

    // Patient ids are UUIDs; any other reference can have no records, and would fail the uuid cast.
    if (dimension === 'patient' && !isUuid(key)) {
      return recordConnection([], size, cursor !== undefined, async () => 0);
    }
    const normalizedKey = dimension === 'patient' ? key.toLowerCase() : key;
    const rows =
      size === 0
        ? []
        : await historyLoader(context, tenantId).load({ dimension, key: normalizedKey, size, after });
    return recordConnection(rows, size, cursor !== undefined, () =>
      countLoader(context, tenantId, dimension).load(normalizedKey),
    );
  };

  return {
    Query: {
      auditRecords: async (
        _: unknown,
        args: PageArguments & { filter?: AuditRecordFilter | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, AUDIT_READ);
        const tenantId = requireTenant(context);
        const size = pageSize(args.first);
        const cursor = parseAuditCursor(args.after);
        const where = filterConditions(tenantId, args.filter);

        const rows =
          size === 0
            ? []
            : await inTenantTransaction(orm, tenantId, (em) => selectRecords(em, where, cursor, size + 1));
        return recordConnection(rows, size, cursor !== undefined, () =>
          inTenantTransaction(orm, tenantId, (em) => countRecords(em, where)),
        );
      },

      verifyAuditChain: async (_: unknown, __: unknown, context: SubgraphContext) => {
        requirePermission(context, AUDIT_READ);
        const tenantId = requireTenant(context);
        const result = await verifyChain(orm, tenantId);
        const verifiedAt = new Date();
        if (result.intact) {
          return {
            intact: true,
            records: result.records.toString(),
            headHash: result.headHash.toString('hex'),
            verifiedAt,
          };
        }
        return {
          intact: false,
          records: result.records.toString(),
          firstBrokenSequence: result.firstBrokenSeq.toString(),
          recordId: result.recordId,
          reason: result.reason,
          verifiedAt,
        };
      },
    },

    // Patient and User belong to clinical and identity. This subgraph only adds fields to them, so a
    // reference resolves to itself without a query, and each field checks audit:read.
    Patient: {
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
      accessHistory: (patient: { id: string }, args: PageArguments, context: SubgraphContext) =>
        history(context, 'patient', patient.id, args),
    },

    User: {
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
      activity: (user: { id: string }, args: PageArguments, context: SubgraphContext) =>
        history(context, 'actor', user.id, args),
    },
  };
}
