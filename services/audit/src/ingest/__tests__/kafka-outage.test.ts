import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { startHarness, type AuditHarness } from '../../testing/harness.js';
import { AUDIT_RECORDS } from '../../testing/fixtures.js';

describe('service while Kafka is down', () => {
  let harness: AuditHarness;

  before(async () => {
    // Nothing listens on port 1 of the loopback interface, so every connection is refused at once.
    harness = await startHarness({
      consumer: { topic: `hms.audit.v1.test-${newId()}` },
      kafkaBrokers: ['127.0.0.1:1'],
    });
  });

  after(async () => {
    await harness?.stop();
  });

  test('serves the audit log', async () => {
    const token = await harness.token(newId());

    const { body } = await harness.graphql<{ auditRecords: { totalCount: number } }>(
      AUDIT_RECORDS,
      {},
      token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(body.data?.auditRecords.totalCount, 0);
  });

  test('reports Kafka not ready', async () => {
    const response = await fetch(new URL('/readyz', harness.url));
    const body = (await response.json()) as { checks: Record<string, string> };

    assert.equal(response.status, 503);
    assert.deepEqual(body.checks, { database: 'ok', kafka: 'unavailable', redis: 'ok' });
  });
});
