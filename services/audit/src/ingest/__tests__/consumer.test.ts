import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dlqTopic } from '@hms/proto-schemas';
import { createEventBus, createLogger, inTenantTransaction, newId, type EventBus } from '@hms/service-kit';
import { verifyChain } from '../../records/verify.js';
import { startHarness, testKafkaBrokers, type AuditHarness } from '../../testing/harness.js';
import { auditRecordMessage } from '../../testing/messages.js';
import { auditRecord, auditRecords } from '../../testing/records.js';
import { AUDIT_RECORDS } from '../../testing/fixtures.js';

/** Polls `check` until it returns true, for at most `timeoutMs`. */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`The condition did not hold within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('hms.audit.v1 consumer', () => {
  const isStored = (tenantId: string, recordId: string) =>
    inTenantTransaction(harness.orm, tenantId, async (em) => {
      const rows = await em.execute('select 1 from audit.audit_records where tenant_id = ? and id = ?', [
        tenantId,
        recordId,
      ]);
      return rows.length === 1;
    });

  // A topic and group of this run only, so the test neither takes nor leaves records for others.
  const topic = `hms.audit.v1.test-${newId()}`;
  let harness: AuditHarness;
  let producer: EventBus;

  before(async () => {
    harness = await startHarness({ consumer: { topic, groupId: `hms-audit-test-${newId()}` } });
    producer = createEventBus({
      brokers: testKafkaBrokers,
      clientId: 'audit-test-producer',
      logger: createLogger('audit-test', 'warn'),
    });
  });

  after(async () => {
    await harness?.stop();
    await producer?.deleteTopics([topic, dlqTopic(topic)]).catch(() => undefined);
    await producer?.disconnect();
  });

  test('appends published records', async () => {
    const tenantId = newId();
    const records = auditRecords(tenantId, 20);

    await producer.publish(
      topic,
      records.map((record) => auditRecordMessage(record)),
    );
    await eventually(async () => (await verifyChain(harness.orm, tenantId)).records === 20n);
    const result = await verifyChain(harness.orm, tenantId);
    const token = await harness.token(tenantId);
    const { body } = await harness.graphql<{
      auditRecords: { edges: { node: { id: string; sequence: string } }[] };
    }>(AUDIT_RECORDS, { first: 100 }, token);

    assert.equal(result.intact, true);
    // The chain follows the partition order, which is the publish order of the tenant's records.
    const bySequence = [...body.data!.auditRecords.edges]
      .sort((a, b) => Number(a.node.sequence) - Number(b.node.sequence))
      .map((edge) => edge.node.id);
    assert.deepEqual(
      bySequence,
      records.map((record) => record.recordId),
    );
  });

  test('redelivered event applied once', async () => {
    const tenantId = newId();
    const message = auditRecordMessage(auditRecord(tenantId));
    const duplicatesBefore = harness.consumer!.counts.duplicates;

    await producer.publish(topic, [message, message]);
    await eventually(() => harness.consumer!.counts.duplicates > duplicatesBefore);

    assert.equal((await verifyChain(harness.orm, tenantId)).records, 1n);
  });

  test('record under new event stored once', async () => {
    const tenantId = newId();
    const record = auditRecord(tenantId);
    const marker = auditRecord(tenantId);

    // The second copy reaches the store, which skips it by record id; the marker then shows that
    // everything before it in the partition was processed.
    await producer.publish(topic, [
      auditRecordMessage(record),
      auditRecordMessage(record),
      auditRecordMessage(marker),
    ]);
    await eventually(() => isStored(tenantId, marker.recordId));

    const result = await verifyChain(harness.orm, tenantId);
    assert.equal(result.intact, true);
    assert.equal(result.records, 2n);
  });

  test('invalid record dead-lettered', async () => {
    const tenantId = newId();
    const deadLetteredBefore = harness.consumer!.counts.deadLettered;
    const invalid = auditRecordMessage(auditRecord(tenantId, { action: '' }));
    const garbage = { key: tenantId, value: Buffer.from('not an envelope') };
    const valid = auditRecord(tenantId);

    await producer.publish(topic, [invalid, garbage, auditRecordMessage(valid)]);
    await eventually(async () => (await verifyChain(harness.orm, tenantId)).records === 1n);

    assert.equal(harness.consumer!.counts.deadLettered, deadLetteredBefore + 2);
  });

  test('readiness includes Kafka', async () => {
    const response = await fetch(new URL('/readyz', harness.url));
    const body = (await response.json()) as { checks: Record<string, string> };

    assert.equal(response.status, 200);
    assert.deepEqual(body.checks, { database: 'ok', kafka: 'ok', redis: 'ok' });
  });
});
