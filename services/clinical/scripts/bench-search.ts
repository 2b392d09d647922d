/**
 * Measures patient search latency through the subgraph with a large tenant.
 *
 *   npx tsx services/clinical/scripts/bench-search.ts [--patients 100000] [--clients 50] [--requests 20] [--keep]
 *
 * Inserts `--patients` synthetic patients into a new tenant of the test database (HMS_TEST_DATABASE,
 * hms_test by default), starts the subgraph in-process, and has `--clients` concurrent clients send
 * `--requests` searches each for every kind of query, printing p50/p95/p99 per kind. It also prints the
 * plan of a name fragment search, which shows whether the trigram index serves it. The tenant's rows
 * are deleted at the end unless `--keep` is given. It prints figures and asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../src/testing/harness.js';
import { SEARCH_PATIENTS } from '../src/testing/fixtures.js';
import { insertPatients, searchQueries } from './synthetic-patients.js';

const { values: options } = parseArgs({
  options: {
    patients: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '50' },
    requests: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const patientCount = positive(options.patients, '--patients');
const clientCount = positive(options.clients, '--clients');
const requestsPerClient = positive(options.requests, '--requests');

function positive(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`${name} must be a positive integer, got ${value}.`);
  return parsed;
}

/** Prints the plan PostgreSQL chooses for a name fragment search by the app role, under row-level security. */
async function explainFragmentSearch(appUrl: string, tenantId: string): Promise<void> {
  const client = new pg.Client({ connectionString: appUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    const plan = await client.query(
      "explain (analyze, costs off) select id from clinical.patients where tenant_id = $1 and search_text like '%garc%' order by family_key, given_key, id limit 21",
      [tenantId],
    );
    await client.query('rollback');
    console.log('\nPlan of a name fragment search (app role, row-level security on):');
    for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/** Runs every client's bounded loop of one kind of search and returns the latencies in milliseconds. */
async function measure(
  harness: ClinicalHarness,
  token: string,
  query: (index: number) => string,
): Promise<{ latencies: number[]; errors: number; totals: number[] }> {
  const latencies: number[] = [];
  const totals: number[] = [];
  let errors = 0;
  let reported = false;
  await Promise.all(
    Array.from({ length: clientCount }, async (_, client) => {
      for (let request = 0; request < requestsPerClient; request++) {
        const search = query(client * requestsPerClient + request);
        const started = performance.now();
        const { body } = await harness.graphql<{ patients: { totalCount: number } }>(
          SEARCH_PATIENTS,
          { search, first: 20 },
          token,
        );
        latencies.push(performance.now() - started);
        if (body.errors) {
          errors++;
          if (!reported) console.error(`Search ${JSON.stringify(search)} failed: ${body.errors[0]?.message}`);
          reported = true;
        } else totals.push(body.data?.patients.totalCount ?? 0);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), errors, totals };
}

const harness = await startHarness();
const tenantId = newId();
try {
  console.log(`Inserting ${patientCount} patients into tenant ${tenantId}.`);
  const insertStarted = performance.now();
  await insertPatients(harness.database.appUrl, tenantId, patientCount);
  const admin = new pg.Client({ connectionString: harness.database.adminUrl });
  await admin.connect();
  await admin.query('analyze clinical.patients');
  await admin.end();
  console.log(`Inserted in ${((performance.now() - insertStarted) / 1000).toFixed(1)} s.`);

  await explainFragmentSearch(harness.database.appUrl, tenantId);

  // The run takes minutes, longer than the test issuer's default token lifetime.
  const token = await harness.issuer.sign(
    { tid: tenantId, perms: ['patient:read'] },
    { expiresInSeconds: 3600 },
  );
  console.log(
    `\n${clientCount} concurrent clients, ${requestsPerClient} requests each per kind, first: 20 (milliseconds):`,
  );
  console.log('kind                 p50      p95      p99   errors  median matches');
  for (const [kind, query] of Object.entries(searchQueries(patientCount))) {
    // An unmeasured pass first fills the connection pool and PostgreSQL's cache.
    await measure(harness, token, query).catch(() => undefined);
    const { latencies, errors, totals } = await measure(harness, token, query);
    const matches = totals.sort((a, b) => a - b)[Math.floor(totals.length / 2)] ?? 0;
    const cells = [0.5, 0.95, 0.99].map((fraction) => percentile(latencies, fraction).toFixed(1).padStart(8));
    console.log(
      `${kind.padEnd(18)}${cells.join(' ')} ${String(errors).padStart(8)} ${String(matches).padStart(15)}`,
    );
  }
} finally {
  if (!options.keep) {
    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    await client.query('begin');
    await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    await client.query('delete from clinical.patients');
    await client.query('delete from clinical.mrn_counters');
    // Every search wrote READ audit records for the patients it returned. Without a relay they would
    // wait in the outbox and flood the next end-to-end run's audit consumer.
    await client.query('delete from clinical.outbox');
    await client.query('commit');
    await client.end();
  }
  await harness.stop();
}
