import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { errorCodes } from '@hms/test-kit';
import { GOOD_PASSWORD } from '../../services/identity/src/testing/harness.js';
import { randomSuffix, startSystem, type System } from './harness.js';

const REGISTER = 'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }';
const RECORDS = `query ($filter: AuditRecordFilter) {
  auditRecords(filter: $filter, first: 20) { totalCount edges { node { action operation outcome traceId patientId } } }
}`;

interface RecordsResult {
  auditRecords: {
    totalCount: number;
    edges: {
      node: { action: string; operation: string; outcome: string; traceId: string; patientId: string | null };
    }[];
  };
}

let system: System;

before(async () => {
  system = await startSystem({ events: true });
});

after(async () => {
  await system?.stop();
});

async function newTenantAdmin(): Promise<{ token: string; slug: string }> {
  const operator = await system.identity.operatorToken();
  const slug = `e2e-${randomSuffix()}`;
  const email = `admin.${randomSuffix()}@example.org`;
  const created = await system.gateway(
    'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
    {
      input: {
        slug,
        name: slug,
        timeZone: 'UTC',
        currency: 'USD',
        admin: { name: 'Admin', email, password: GOOD_PASSWORD },
      },
    },
    operator,
  );
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const login = await system.gateway<{ login: { accessToken: string } }>(
    'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
    { input: { tenantSlug: slug, email, password: GOOD_PASSWORD } },
  );
  return { token: login.body.data!.login.accessToken, slug };
}

/** Polls the audit log through the gateway until `predicate` holds, for at most `timeoutMs`. */
async function waitForRecords(
  token: string,
  filter: Record<string, unknown>,
  predicate: (result: RecordsResult) => boolean,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await system.gateway<RecordsResult>(RECORDS, { filter }, token);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    if (predicate(response.body.data!)) return response.body.data!;
    if (Date.now() > deadline)
      throw new Error(
        `Audit records did not arrive within ${timeoutMs} ms: ${JSON.stringify(response.body.data)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('write through gateway is audited with its trace id', async () => {
  const admin = await newTenantAdmin();
  const traceId = randomBytes(16).toString('hex');
  const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

  const registered = await system.gateway<{ registerPatient: { id: string } }>(
    REGISTER,
    {
      input: {
        name: { given: ['Audit'], family: `Trace${randomSuffix()}` },
        sex: 'MALE',
        birthDate: '1970-01-01',
      },
    },
    admin.token,
    { traceparent },
  );
  assert.equal(registered.body.errors, undefined, JSON.stringify(registered.body.errors));
  const patientId = registered.body.data!.registerPatient.id;

  // The record travels clinical's outbox, the relay, Kafka and the audit consumer before it is stored.
  const result = await waitForRecords(admin.token, { patientId }, (records) =>
    records.auditRecords.edges.some((edge) => edge.node.operation === 'CREATE'),
  );
  const create = result.auditRecords.edges.find((edge) => edge.node.operation === 'CREATE')!.node;
  assert.equal(create.traceId, traceId);
  assert.equal(create.outcome, 'SUCCESS');
  assert.equal(create.patientId, patientId);

  const chain = await system.gateway<{ verifyAuditChain: { intact: boolean } }>(
    '{ verifyAuditChain { intact } }',
    {},
    admin.token,
  );
  assert.equal(chain.body.data?.verifyAuditChain.intact, true);
});

test('failed login is audited', async () => {
  const admin = await newTenantAdmin();
  const failed = await system.gateway(
    'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
    {
      input: {
        tenantSlug: admin.slug,
        email: `nobody.${randomSuffix()}@example.org`,
        password: 'wrong password entirely',
      },
    },
  );
  assert.deepEqual(errorCodes(failed.body), ['UNAUTHENTICATED']);

  const result = await waitForRecords(
    admin.token,
    { action: 'login.failed' },
    (records) => records.auditRecords.totalCount > 0,
  );
  assert.equal(result.auditRecords.edges[0]?.node.outcome, 'FAILURE');
});

test('other tenant sees no audit records', async () => {
  const tenantA = await newTenantAdmin();
  const tenantB = await newTenantAdmin();
  const registered = await system.gateway<{ registerPatient: { id: string } }>(
    REGISTER,
    {
      input: {
        name: { given: ['Hidden'], family: `Other${randomSuffix()}` },
        sex: 'FEMALE',
        birthDate: '1980-05-05',
      },
    },
    tenantA.token,
  );
  const patientId = registered.body.data!.registerPatient.id;
  await waitForRecords(tenantA.token, { patientId }, (records) => records.auditRecords.totalCount > 0);

  const seenByB = await system.gateway<RecordsResult>(RECORDS, { filter: { patientId } }, tenantB.token);
  assert.equal(seenByB.body.errors, undefined);
  assert.equal(seenByB.body.data?.auditRecords.totalCount, 0);
});
