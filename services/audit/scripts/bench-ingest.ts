/**
 * Measures how fast audit records are appended to a tenant's hash chain.
 *
 *   npx tsx services/audit/scripts/bench-ingest.ts [--records 20000] [--batches 1,10,100,1000] [--tenants 1]
 *                                                  [--kafka] [--keep]
 *
 * For each batch size, appends `--records` records per tenant to new tenants of the test database
 * (HMS_TEST_DATABASE, hms_test by default) by calling appendAuditRecords directly, `--tenants`
 * tenants in parallel, and prints records per second. Appends of one tenant are serialized by its
 * chain lock, so one tenant measures a single chain and several tenants measure the database. The
 * chains are verified afterwards, and the timing of that walk is printed too.
 *
 * With `--kafka` it also publishes `--records` records per tenant as hms.audit.v1 envelopes to a
 * topic of its own on HMS_KAFKA_BROKERS (127.0.0.1:9092 by default) and runs the service's consumer
 * on it, printing records per second from the first publish until the consumer applied the last
 * record. The consumer applies one message per transaction, so this is the rate of batch size 1
 * plus Kafka's overhead. The topic is deleted afterwards.
 *
 * The bench tenants' rows are removed at the end as the database superuser, with the append-only
 * trigger disabled inside that transaction, unless `--keep` is given. It prints figures and asserts
 * nothing.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { dlqTopic } from '@hms/proto-schemas';
import { createEventBus, createLogger, newId, type OutgoingMessage } from '@hms/service-kit';
import { startAuditConsumer } from '../src/ingest/consumer.js';
import { appendAuditRecords } from '../src/records/append.js';
import { verifyChain } from '../src/records/verify.js';
import { migrateTestDatabase, openAppOrm } from '../src/testing/database.js';
import { auditRecordMessage } from '../src/testing/messages.js';
import { auditRecords } from '../src/testing/records.js';

const { values: options } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    batches: { type: 'string', default: '1,10,100,1000' },
    tenants: { type: 'string', default: '1' },
    kafka: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const recordCount = positive(options.records, '--records');
const tenantCount = positive(options.tenants, '--tenants');
const batchSizes = options.batches.split(',').map((value) => positive(value.trim(), '--batches'));

const database = await migrateTestDatabase();
const orm = await openAppOrm(database, Math.max(2, tenantCount));
const benchTenants: string[] = [];

try {
  console.log(`Appending ${recordCount} records per tenant, ${tenantCount} tenant(s) in parallel.`);
  for (const batchSize of batchSizes) {
    const tenants = Array.from({ length: tenantCount }, () => newId());
    benchTenants.push(...tenants);

    // Records are built before the clock starts, so the figure is the store's alone.
    const work = tenants.map((tenantId) => ({ tenantId, records: auditRecords(tenantId, recordCount) }));
    const started = performance.now();
    await Promise.all(
      work.map(async ({ tenantId, records }) => {
        for (let start = 0; start < records.length; start += batchSize) {
          await appendAuditRecords(orm, tenantId, records.slice(start, start + batchSize));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    const verifyStarted = performance.now();
    const verification = await verifyChain(orm, tenants[0]!);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    if (!verification.intact) throw new Error(`The chain of ${tenants[0]} is broken after the bench.`);

    const total = recordCount * tenantCount;
    console.log(
      [
        `batch ${String(batchSize).padStart(5)}`,
        `${Math.round(total / seconds)
          .toString()
          .padStart(7)} records/s`,
        `(${total} in ${seconds.toFixed(2)} s)`,
        `verify ${Math.round(recordCount / verifySeconds)} records/s`,
      ].join('  '),
    );
  }

  if (options.kafka) await benchKafka();
} finally {
  await orm.close();
  if (!options.keep) await removeTenants(database.adminUrl, benchTenants);
}

/** Publishes records to a topic of the bench's own and times the consumer until it applied them all. */
async function benchKafka(): Promise<void> {
  const brokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const logger = createLogger('audit-bench', 'warn');
  const bus = createEventBus({ brokers, clientId: 'audit-bench', logger });
  const topic = `hms.audit.v1.bench-${newId()}`;
  const tenants = Array.from({ length: tenantCount }, () => newId());
  benchTenants.push(...tenants);
  const total = recordCount * tenantCount;

  // Interleaving the tenants' records spreads them over partitions as live traffic would.
  const perTenant = tenants.map((tenantId) =>
    auditRecords(tenantId, recordCount).map((record) => auditRecordMessage(record)),
  );
  const messages: OutgoingMessage[] = [];
  for (let index = 0; index < recordCount; index++) {
    for (const list of perTenant) messages.push(list[index]!);
  }
  try {
    await bus.ensureTopics([topic, dlqTopic(topic)], { partitions: Math.min(tenantCount, 8) });
    const consumer = await startAuditConsumer({
      bus,
      orm,
      logger,
      topic,
      groupId: `hms-audit-bench-${newId()}`,
    });

    const started = performance.now();
    for (let start = 0; start < messages.length; start += 500) {
      await bus.publish(topic, messages.slice(start, start + 500));
    }
    const published = performance.now();
    while (consumer.counts.applied + consumer.counts.deadLettered < total) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    await consumer.stop();

    if (consumer.counts.deadLettered > 0)
      throw new Error(`${consumer.counts.deadLettered} records were dead-lettered.`);
    console.log(
      [
        'kafka consumer',
        `${Math.round(total / seconds)} records/s`,
        `(${total} in ${seconds.toFixed(2)} s, publishing took ${((published - started) / 1000).toFixed(2)} s)`,
      ].join('  '),
    );
  } finally {
    await bus.deleteTopics([topic, dlqTopic(topic)]).catch(() => undefined);
    await bus.disconnect();
  }
}

/** Deletes the bench tenants' rows as the superuser; the trigger is off only inside this transaction. */
async function removeTenants(adminUrl: string, tenants: string[]): Promise<void> {
  if (tenants.length === 0) return;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('begin');
    await admin.query('alter table audit.audit_records disable trigger audit_records_append_only');
    await admin.query('delete from audit.audit_records where tenant_id = any($1::uuid[])', [tenants]);
    await admin.query('delete from audit.chain_heads where tenant_id = any($1::uuid[])', [tenants]);
    await admin.query('alter table audit.audit_records enable trigger audit_records_append_only');
    await admin.query('commit');
  } finally {
    await admin.end();
  }
}

function positive(value: string, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    console.error(`${name} must be a positive integer, got ${JSON.stringify(value)}.`);
    process.exit(2);
  }
  return number;
}
