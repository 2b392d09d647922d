import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { AUDIT_READ } from '../../records/resolvers.js';
import { verifyChain } from '../../records/verify.js';
import { startHarness, type AuditHarness } from '../../testing/harness.js';
import {
  AUDIT_RECORDS,
  invalidFields,
  REPORT_INCIDENT,
  RESOLVE_INCIDENT,
  SECURITY_INCIDENTS,
} from '../../testing/fixtures.js';
import { INCIDENT_MANAGE, INCIDENT_REPORT } from '../resolvers.js';

interface Incident {
  id: string;
  summary: string;
  description: string | null;
  patientId: string | null;
  severity: string;
  status: string;
  reportedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
  reportedBy: { id: string };
  resolvedBy: { id: string } | null;
}

interface AuditRecordNode {
  id: string;
  action: string;
  operation: string;
  entityType: string;
  entityId: string;
  patientId: string | null;
  changedFields: string[];
  producer: string;
  requestId: string;
  actor: {
    kind: string;
    id: string;
    sessionId: string;
    roles: string[];
    ip: string | null;
    userAgent: string | null;
  };
}

describe('security incidents', () => {
  let harness: AuditHarness;
  const tenantId = newId();
  const nurseId = newId();
  const adminId = newId();
  let nurse: string;
  let admin: string;

  before(async () => {
    harness = await startHarness();
    nurse = await harness.issuer.sign({
      tid: tenantId,
      sub: nurseId,
      roles: ['nurse'],
      perms: [INCIDENT_REPORT],
    });
    admin = await harness.issuer.sign({
      tid: tenantId,
      sub: adminId,
      roles: ['tenant_admin'],
      perms: [INCIDENT_REPORT, INCIDENT_MANAGE, AUDIT_READ],
    });
  });

  after(async () => {
    await harness?.stop();
  });

  const report = async (
    input: Record<string, unknown>,
    token = nurse,
    headers: Record<string, string> = {},
  ) => harness.graphql<{ reportSecurityIncident: Incident }>(REPORT_INCIDENT, { input }, token, headers);

  const auditRecordsOf = async (entityId: string) => {
    const { body } = await harness.graphql<{ auditRecords: { edges: { node: AuditRecordNode }[] } }>(
      AUDIT_RECORDS,
      { filter: { entityType: 'SecurityIncident', entityId } },
      admin,
    );
    return body.data!.auditRecords.edges.map((edge) => edge.node);
  };

  test('report stored and audited', async () => {
    const patientId = newId();

    const { body } = await report(
      {
        summary: 'Unlocked workstation in ward 3',
        severity: 'MEDIUM',
        patientId,
        description: 'Chart open.',
      },
      nurse,
      {
        'x-hms-client-ip': '198.51.100.4',
        'x-hms-user-agent': 'Ward tablet',
        'x-request-id': 'req-incident-1',
      },
    );
    const incident = body.data?.reportSecurityIncident;
    const records = await auditRecordsOf(incident!.id);

    assert.equal(body.errors, undefined);
    assert.equal(incident?.status, 'OPEN');
    assert.equal(incident?.reportedBy.id, nurseId);
    assert.equal(incident?.patientId, patientId);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.action, 'security_incident.report');
    assert.equal(records[0]?.operation, 'CREATE');
    assert.equal(records[0]?.patientId, patientId);
    assert.deepEqual(records[0]?.changedFields, ['summary', 'description', 'patientId', 'severity']);
    assert.equal(records[0]?.producer, 'audit');
    assert.equal(records[0]?.requestId, 'req-incident-1');
    assert.equal(records[0]?.actor.kind, 'USER');
    assert.equal(records[0]?.actor.id, nurseId);
    assert.deepEqual(records[0]?.actor.roles, ['nurse']);
    assert.equal(records[0]?.actor.ip, '198.51.100.4');
    assert.equal(records[0]?.actor.userAgent, 'Ward tablet');
  });

  test('resolve stored and audited', async () => {
    const { body: reported } = await report({ summary: 'Phishing mail', severity: 'HIGH' });
    const id = reported.data!.reportSecurityIncident.id;

    const { body } = await harness.graphql<{ resolveSecurityIncident: Incident }>(
      RESOLVE_INCIDENT,
      { id, resolution: 'Password reset, mail blocked.' },
      admin,
    );
    const incident = body.data?.resolveSecurityIncident;
    const records = await auditRecordsOf(id);

    assert.equal(body.errors, undefined);
    assert.equal(incident?.status, 'RESOLVED');
    assert.equal(incident?.resolution, 'Password reset, mail blocked.');
    assert.equal(incident?.resolvedBy?.id, adminId);
    assert.ok(incident?.resolvedAt);
    assert.deepEqual(
      records.map((record) => record.action),
      ['security_incident.resolve', 'security_incident.report'],
    );
    assert.equal(records[0]?.operation, 'UPDATE');
    assert.equal(records[0]?.actor.id, adminId);
  });

  test('audit chain intact after incidents', async () => {
    const result = await verifyChain(harness.orm, tenantId);

    assert.equal(result.intact, true);
    assert.ok(result.records >= 3n);
  });

  test('resolve twice conflicts', async () => {
    const { body: reported } = await report({ summary: 'Badge lost', severity: 'LOW' });
    const id = reported.data!.reportSecurityIncident.id;
    await harness.graphql(RESOLVE_INCIDENT, { id, resolution: 'Badge revoked.' }, admin);

    const { body } = await harness.graphql(RESOLVE_INCIDENT, { id, resolution: 'Again.' }, admin);
    const records = await auditRecordsOf(id);

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(records.length, 2);
  });

  test('concurrent resolves one wins', async () => {
    const { body: reported } = await report({ summary: 'USB stick found', severity: 'LOW' });
    const id = reported.data!.reportSecurityIncident.id;

    const results = await Promise.all(
      [1, 2, 3].map((n) => harness.graphql(RESOLVE_INCIDENT, { id, resolution: `Attempt ${n}` }, admin)),
    );
    const codes = results.map((result) => errorCodes(result.body)[0] ?? 'OK').sort();

    assert.deepEqual(codes, ['CONFLICT', 'CONFLICT', 'OK']);
    assert.equal((await auditRecordsOf(id)).length, 2);
  });

  test('resolve unknown not found', async () => {
    const { body } = await harness.graphql(RESOLVE_INCIDENT, { id: newId(), resolution: 'n/a' }, admin);

    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
  });

  test('resolve other tenant not found', async () => {
    const { body: reported } = await report({ summary: 'Tailgating at entrance', severity: 'LOW' });
    const otherAdmin = await harness.token(newId(), [INCIDENT_MANAGE]);

    const { body } = await harness.graphql(
      RESOLVE_INCIDENT,
      { id: reported.data!.reportSecurityIncident.id, resolution: 'Mine now.' },
      otherAdmin,
    );

    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
  });

  test('reporting needs incident:report', async () => {
    const token = await harness.token(tenantId, ['patient:read']);

    const { body } = await report({ summary: 'Anything', severity: 'LOW' }, token);

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('managing needs incident:manage', async () => {
    const { body: reported } = await report({ summary: 'Shared password', severity: 'MEDIUM' });

    const list = await harness.graphql(SECURITY_INCIDENTS, {}, nurse);
    const resolve = await harness.graphql(
      RESOLVE_INCIDENT,
      { id: reported.data!.reportSecurityIncident.id, resolution: 'Done.' },
      nurse,
    );

    assert.deepEqual(errorCodes(list.body), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(resolve.body), ['FORBIDDEN']);
  });

  test('invalid report rejected', async () => {
    const { body } = await report({
      summary: '  ',
      severity: 'LOW',
      patientId: 'MRN-1',
      occurredAt: new Date(Date.now() + 86_400_000).toISOString(),
    });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    assert.deepEqual(invalidFields(body), ['input.summary', 'input.occurredAt', 'input.patientId']);
  });

  test('multi-line summary rejected', async () => {
    const { body } = await report({ summary: 'first line\nsecond line', severity: 'LOW' });

    assert.deepEqual(invalidFields(body), ['input.summary']);
  });

  test('lists and filters by status', async () => {
    const tenant = newId();
    const reporter = await harness.token(tenant, [INCIDENT_REPORT]);
    const manager = await harness.token(tenant, [INCIDENT_MANAGE]);
    const ids: string[] = [];
    for (const summary of ['one', 'two', 'three', 'four', 'five']) {
      const { body } = await report({ summary, severity: 'LOW' }, reporter);
      ids.push(body.data!.reportSecurityIncident.id);
    }
    await harness.graphql(RESOLVE_INCIDENT, { id: ids[1], resolution: 'Handled.' }, manager);

    type Page = {
      securityIncidents: { totalCount: number; pageInfo: { endCursor: string }; edges: { node: Incident }[] };
    };
    const first = await harness.graphql<Page>(SECURITY_INCIDENTS, { first: 3 }, manager);
    const second = await harness.graphql<Page>(
      SECURITY_INCIDENTS,
      { first: 3, after: first.body.data!.securityIncidents.pageInfo.endCursor },
      manager,
    );
    const open = await harness.graphql<Page>(SECURITY_INCIDENTS, { status: 'OPEN' }, manager);
    const summaries = (page: Page | null | undefined) =>
      page?.securityIncidents.edges.map((edge) => edge.node.summary);

    assert.equal(first.body.data?.securityIncidents.totalCount, 5);
    assert.deepEqual(summaries(first.body.data), ['five', 'four', 'three']);
    assert.deepEqual(summaries(second.body.data), ['two', 'one']);
    assert.deepEqual(summaries(open.body.data), ['five', 'four', 'three', 'one']);
    assert.equal(open.body.data?.securityIncidents.totalCount, 4);
  });

  test('other tenant lists nothing', async () => {
    const otherManager = await harness.token(newId(), [INCIDENT_MANAGE]);

    const { body } = await harness.graphql<{ securityIncidents: { totalCount: number } }>(
      SECURITY_INCIDENTS,
      {},
      otherManager,
    );

    assert.equal(body.data?.securityIncidents.totalCount, 0);
  });
});
