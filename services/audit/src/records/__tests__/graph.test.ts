import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { appendAuditRecords } from '../append.js';
import type { AuditRecordInput } from '../input.js';
import { startHarness, type AuditHarness } from '../../testing/harness.js';
import { AUDIT_RECORDS, ENTITY_HISTORY, VERIFY_CHAIN } from '../../testing/fixtures.js';
import { auditRecord } from '../../testing/records.js';

interface RecordPage {
  auditRecords: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
    edges: {
      node: { id: string; sequence: string; occurredAt: string; action: string; [key: string]: unknown };
    }[];
  };
}

describe('audit records in the graph', () => {
  let harness: AuditHarness;
  const tenantId = newId();
  const patientA = newId();
  const patientB = newId();
  const nurse = newId();
  const doctor = newId();
  const start = Date.parse('2026-03-01T08:00:00.000Z');
  const minute = (n: number) => new Date(start + n * 60_000);
  let records: AuditRecordInput[];
  let token: string;

  before(async () => {
    harness = await startHarness();
    token = await harness.token(tenantId);

    // Ten records a minute apart, appended out of time order as consumers can receive them.
    records = [
      auditRecord(tenantId, {
        occurredAt: minute(3),
        patientId: patientA,
        actor: { kind: 'USER', id: nurse },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(0),
        patientId: patientA,
        actor: { kind: 'USER', id: doctor },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(1),
        patientId: patientB,
        actor: { kind: 'USER', id: doctor },
        action: 'patient.update',
        operation: 'UPDATE',
        changedFields: ['phone', 'address'],
      }),
      auditRecord(tenantId, {
        occurredAt: minute(2),
        patientId: patientA,
        actor: { kind: 'USER', id: doctor },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(4),
        patientId: null,
        entityType: 'User',
        entityId: nurse,
        actor: { kind: 'USER', id: nurse },
        action: 'login.failed',
        operation: 'LOGIN',
        outcome: 'FAILURE',
        reason: 'wrong password',
      }),
      auditRecord(tenantId, {
        occurredAt: minute(5),
        patientId: patientB,
        actor: { kind: 'USER', id: nurse },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(6),
        patientId: patientA,
        actor: { kind: 'USER', id: nurse },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(7),
        patientId: patientA,
        actor: { kind: 'USER', id: doctor },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(8),
        patientId: patientB,
        actor: { kind: 'USER', id: doctor },
      }),
      auditRecord(tenantId, {
        occurredAt: minute(9),
        patientId: patientA,
        actor: { kind: 'USER', id: nurse },
      }),
    ];
    await appendAuditRecords(harness.orm, tenantId, records.slice(0, 4));
    await appendAuditRecords(harness.orm, tenantId, records.slice(4));
  });

  after(async () => {
    await harness?.stop();
  });

  const list = async (variables: Record<string, unknown>, as = token) =>
    harness.graphql<RecordPage>(AUDIT_RECORDS, variables, as);

  const minutesOf = (page: RecordPage) =>
    page.auditRecords.edges.map((edge) => (Date.parse(edge.node.occurredAt) - start) / 60_000);

  test('lists newest first', async () => {
    const { body } = await list({});

    assert.equal(body.errors, undefined);
    assert.equal(body.data?.auditRecords.totalCount, 10);
    assert.deepEqual(minutesOf(body.data!), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  test('serves every field', async () => {
    const { body } = await list({ filter: { action: 'patient.update' } });
    const node = body.data?.auditRecords.edges[0]?.node;
    const input = records[2]!;

    assert.equal(node?.id, input.recordId);
    assert.equal(node?.sequence, '3');
    assert.equal(node?.occurredAt, minute(1).toISOString());
    assert.equal(node?.operation, 'UPDATE');
    assert.deepEqual(node?.changedFields, ['phone', 'address']);
    assert.equal(node?.patientId, patientB);
    assert.equal(node?.entityType, 'Patient');
    assert.equal(node?.outcome, 'SUCCESS');
    assert.equal(node?.producer, 'clinical');
    assert.equal(node?.traceId, input.traceId);
    assert.equal(node?.requestId, input.requestId);
    assert.deepEqual(node?.actor, {
      kind: 'USER',
      id: doctor,
      sessionId: null,
      roles: [],
      ip: null,
      userAgent: null,
    });
  });

  test('pages with cursor', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { body } = await list({ first: 4, after });
      const page: RecordPage['auditRecords'] = body.data!.auditRecords;
      seen.push(...minutesOf(body.data!));
      assert.equal(page.pageInfo.hasPreviousPage, after !== null);
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }

    assert.equal(pages, 3);
    assert.deepEqual(seen, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  const filters: [string, Record<string, unknown>, number[]][] = [
    ['patient', { patientId: patientA }, [9, 7, 6, 3, 2, 0]],
    ['actor', { actorId: nurse }, [9, 6, 5, 4, 3]],
    ['action', { action: 'login.failed' }, [4]],
    ['operation', { operation: 'UPDATE' }, [1]],
    ['entity', { entityType: 'User', entityId: nurse }, [4]],
    ['time range', { from: minute(2).toISOString(), to: minute(5).toISOString() }, [4, 3, 2]],
    ['combined', { patientId: patientA, actorId: doctor, from: minute(1).toISOString() }, [7, 2]],
    ['nothing matching', { patientId: newId() }, []],
  ];
  for (const [name, filter, expected] of filters) {
    test(`filters by ${name}`, async () => {
      const { body } = await list({ filter });

      assert.equal(body.errors, undefined);
      assert.deepEqual(minutesOf(body.data!), expected);
      assert.equal(body.data?.auditRecords.totalCount, expected.length);
    });
  }

  test('filtered pages with cursor', async () => {
    const first = await list({ filter: { patientId: patientA }, first: 4 });
    const second = await list({
      filter: { patientId: patientA },
      first: 4,
      after: first.body.data!.auditRecords.pageInfo.endCursor,
    });

    assert.deepEqual(minutesOf(first.body.data!), [9, 7, 6, 3]);
    assert.deepEqual(minutesOf(second.body.data!), [2, 0]);
    assert.equal(second.body.data?.auditRecords.pageInfo.hasNextPage, false);
  });

  test('invalid filter rejected', async () => {
    const { body } = await list({ filter: { patientId: 'MRN-000001' } });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  test('reversed time range rejected', async () => {
    const { body } = await list({ filter: { from: minute(5).toISOString(), to: minute(1).toISOString() } });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  test('foreign cursor rejected', async () => {
    const { body } = await list({ after: Buffer.from('["x"]').toString('base64url') });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  test('requires audit:read', async () => {
    const withoutPermission = await harness.token(tenantId, ['patient:read', 'incident:report']);

    const { body } = await list({}, withoutPermission);
    const verification = await harness.graphql(VERIFY_CHAIN, {}, withoutPermission);

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(verification.body), ['FORBIDDEN']);
  });

  test('requires a token', async () => {
    const { body } = await harness.graphql(AUDIT_RECORDS, {});

    assert.deepEqual(errorCodes(body), ['UNAUTHENTICATED']);
  });

  test('other tenant sees nothing', async () => {
    const otherTenant = await harness.token(newId());

    const { body } = await list({ filter: { patientId: patientA } }, otherTenant);
    const all = await list({}, otherTenant);

    assert.equal(body.data?.auditRecords.totalCount, 0);
    assert.deepEqual(body.data?.auditRecords.edges, []);
    assert.equal(all.body.data?.auditRecords.totalCount, 0);
  });

  test('verifies chain', async () => {
    const { body } = await harness.graphql<{ verifyAuditChain: Record<string, unknown> }>(
      VERIFY_CHAIN,
      {},
      token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(body.data?.verifyAuditChain.intact, true);
    assert.equal(body.data?.verifyAuditChain.records, '10');
    assert.match(String(body.data?.verifyAuditChain.headHash), /^[0-9a-f]{64}$/);
    assert.equal(body.data?.verifyAuditChain.firstBrokenSequence, null);
  });

  describe('entity history', () => {
    interface HistoryPage {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { node: { id: string; patientId?: string; actor?: { id: string } } }[];
    }
    type Entity = { id: string; accessHistory?: HistoryPage; activity?: HistoryPage } | null;

    const entities = async (representations: object[], variables: Record<string, unknown> = {}, as = token) =>
      harness.graphql<{ _entities: Entity[] }>(ENTITY_HISTORY, { representations, ...variables }, as);

    test('patient access history', async () => {
      const { body } = await entities([{ __typename: 'Patient', id: patientA }], { first: 4 });
      const history = body.data?._entities[0]?.accessHistory;

      assert.equal(body.errors, undefined);
      assert.equal(history?.totalCount, 6);
      assert.equal(history?.edges.length, 4);
      assert.ok(history?.edges.every((edge) => edge.node.patientId === patientA));
      assert.equal(history?.pageInfo.hasNextPage, true);
    });

    test('patient history next page', async () => {
      const first = await entities([{ __typename: 'Patient', id: patientA }], { first: 4 });
      const endCursor = first.body.data?._entities[0]?.accessHistory?.pageInfo.endCursor;

      const { body } = await entities([{ __typename: 'Patient', id: patientA }], {
        first: 4,
        after: endCursor,
      });
      const ids = body.data?._entities[0]?.accessHistory?.edges.map((edge) => edge.node.id);

      assert.deepEqual(ids, [records[3]!.recordId, records[1]!.recordId]);
    });

    test('user activity', async () => {
      const { body } = await entities([{ __typename: 'User', id: nurse }]);
      const activity = body.data?._entities[0]?.activity;

      assert.equal(activity?.totalCount, 5);
      assert.ok(activity?.edges.every((edge) => edge.node.actor?.id === nurse));
    });

    test('many entities batched', async () => {
      let statements = 0;
      const counting = await startHarness({ onQuery: () => statements++ });
      try {
        const as = await counting.token(tenantId);
        const representations = [patientA, patientB, ...Array.from({ length: 48 }, () => newId())].map(
          (id) => ({
            __typename: 'Patient',
            id,
          }),
        );

        const { body } = await counting.graphql<{ _entities: Entity[] }>(
          ENTITY_HISTORY,
          { representations, first: 2 },
          as,
        );

        assert.equal(body.errors, undefined);
        assert.equal(body.data?._entities.length, 50);
        assert.equal(body.data?._entities[1]?.accessHistory?.totalCount, 3);
        assert.equal(body.data?._entities[2]?.accessHistory?.totalCount, 0);
        // One transaction for the pages and one for the counts, each setting the tenant and running one
        // query, however many patients the list has.
        assert.equal(statements, 4);
      } finally {
        await counting.stop();
      }
    });

    test('history requires audit:read', async () => {
      const withoutPermission = await harness.token(tenantId, ['patient:read']);

      const { body } = await entities([{ __typename: 'Patient', id: patientA }], {}, withoutPermission);

      assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
      assert.equal(body.data?._entities[0] ?? null, null);
    });

    test('history of other tenant empty', async () => {
      const otherTenant = await harness.token(newId());

      const { body } = await entities(
        [
          { __typename: 'Patient', id: patientA },
          { __typename: 'User', id: nurse },
        ],
        {},
        otherTenant,
      );

      assert.equal(body.data?._entities[0]?.accessHistory?.totalCount, 0);
      assert.deepEqual(body.data?._entities[0]?.accessHistory?.edges, []);
      assert.equal(body.data?._entities[1]?.activity?.totalCount, 0);
    });

    test('malformed patient id empty', async () => {
      const { body } = await entities([{ __typename: 'Patient', id: 'not-a-uuid' }]);

      assert.equal(body.errors, undefined);
      assert.equal(body.data?._entities[0]?.accessHistory?.totalCount, 0);
    });
  });
});
