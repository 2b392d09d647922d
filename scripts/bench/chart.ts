/**
 * Measures the patient chart query and patient search through the gateway with a large tenant.
 *
 *   HMS_TEST_DATABASE=hms_test npx tsx scripts/bench/chart.ts [--patients 100000] [--charts 5000]
 *     [--clients 50] [--requests 20] [--keep]
 *
 * Starts identity, clinical, scheduling and the gateway in one process on free loopback ports, without
 * event relays, and creates a tenant with one doctor per client. It inserts `--patients` synthetic
 * patients in bulk SQL and gives the first `--charts` of them a chart (CHART_SHAPE in chart-seed.ts)
 * with upcoming appointments. Then `--clients` concurrent clients, each signed in as its own doctor, send
 * `--requests` requests each per kind: the whole chart of a random chart patient, and three kinds of
 * patient search. Read audit is on, as by default, so every request writes its READ audit records to
 * the outbox. It prints p50/p95/p99 and throughput per kind and asserts nothing. The tenant's clinical
 * and scheduling rows, outbox included, are deleted at the end unless `--keep` is given.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { GOOD_PASSWORD } from '../../services/identity/src/testing/harness.js';
import { insertPatients, searchQueries } from '../../services/clinical/scripts/synthetic-patients.js';
import { CHART } from '../e2e/chart-query.js';
import { randomSuffix, startSystem, type System } from '../e2e/harness.js';
import { CHART_SHAPE, deleteTenantRows, seedAppointments, seedCharts } from './chart-seed.js';

const { values: options } = parseArgs({
  options: {
    patients: { type: 'string', default: '100000' },
    charts: { type: 'string', default: '5000' },
    clients: { type: 'string', default: '50' },
    requests: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const patientCount = positive(options.patients, '--patients');
const chartCount = Math.min(positive(options.charts, '--charts'), patientCount);
const clientCount = positive(options.clients, '--clients');
const requestsPerClient = positive(options.requests, '--requests');

const SEARCH = `query ($search: String) {
  patients(search: $search, first: 20) { totalCount edges { node { id mrn name { text } birthDate } } }
}`;

function positive(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`${name} must be a positive integer, got ${value}.`);
  return parsed;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/** Creates one doctor per client through the gateway and signs each in, returning their ids and tokens. */
async function createDoctors(system: System, slug: string, adminToken: string) {
  const doctors: { id: string; token: string }[] = [];
  for (let index = 0; index < clientCount; index++) {
    const email = `bench.doctor.${index}.${randomSuffix()}@example.org`;
    const created = await system.gateway<{ createUser: { id: string } }>(
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      {
        input: {
          givenName: `Doctor${index}`,
          familyName: 'Bench',
          email,
          password: GOOD_PASSWORD,
          roles: ['doctor'],
        },
      },
      adminToken,
    );
    if (created.body.errors) throw new Error(`createUser failed: ${JSON.stringify(created.body.errors)}`);
    const login = await system.gateway<{ login: { accessToken: string } }>(
      'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
      { input: { tenantSlug: slug, email, password: GOOD_PASSWORD } },
    );
    if (login.body.errors) throw new Error(`login failed: ${JSON.stringify(login.body.errors)}`);
    doctors.push({ id: created.body.data!.createUser.id, token: login.body.data!.login.accessToken });
  }
  return doctors;
}

/** One request of a kind; `complete` returns whether a response without errors has the expected data. */
interface BenchRequest {
  query: string;
  variables: Record<string, unknown>;
  complete?: (data: Record<string, unknown>) => boolean;
}

interface Measurement {
  latencies: number[];
  errors: number;
  seconds: number;
}

/**
 * Runs every client's bounded loop of one kind of request and returns the latencies in milliseconds
 * and the wall time of the whole pass.
 */
async function measure(
  system: System,
  tokens: string[],
  request: (index: number) => BenchRequest,
): Promise<Measurement> {
  const latencies: number[] = [];
  let errors = 0;
  let reported = false;
  const started = performance.now();
  await Promise.all(
    tokens.map(async (token, client) => {
      for (let index = 0; index < requestsPerClient; index++) {
        const { query, variables, complete } = request(client * requestsPerClient + index);
        const sent = performance.now();
        const { status, body } = await system.gateway(query, variables, token);
        latencies.push(performance.now() - sent);
        if (status !== 200 || body.errors || !body.data || (complete && !complete(body.data))) {
          errors++;
          if (!reported) console.error(`A request failed (HTTP ${status}): ${JSON.stringify(body.errors)}`);
          reported = true;
        }
      }
    }),
  );
  return {
    latencies: latencies.sort((a, b) => a - b),
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

// The rate limits are raised so that they do not cap the measurement: by default one tenant may send
// 6,000 requests a minute, which these clients would exceed. The limiter still runs on each request.
const system = await startSystem({ rateLimits: { perUser: 1_000_000, perTenant: 1_000_000 } });
let tenantId: string | undefined;
try {
  const tenant = await system.identity.createTenant();
  tenantId = tenant.id;
  const admin = await system.identity.login({
    tenantSlug: tenant.slug,
    email: tenant.adminEmail,
    password: tenant.adminPassword,
  });
  console.log(`Creating ${clientCount} doctors in tenant ${tenant.id}.`);
  const doctors = await createDoctors(system, tenant.slug, admin.accessToken);
  const doctorIds = doctors.map((doctor) => doctor.id);

  console.log(`Inserting ${patientCount} patients and ${chartCount} charts.`);
  const seedStarted = performance.now();
  await insertPatients(system.clinicalDatabase.ownerUrl, tenant.id, patientCount);
  const chartPatients = await seedCharts(system.clinicalDatabase.ownerUrl, tenant.id, chartCount, doctorIds);
  await seedAppointments(system.schedulingDatabase.ownerUrl, tenant.id, chartPatients, doctorIds);
  const analyzer = new pg.Client({ connectionString: system.clinicalDatabase.adminUrl });
  await analyzer.connect();
  await analyzer.query('analyze');
  await analyzer.end();
  console.log(
    `Seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s. Each chart: ${JSON.stringify(CHART_SHAPE)}.`,
  );

  const from = new Date().toISOString();
  const searches = searchQueries(patientCount);
  const kinds: Record<string, (index: number) => { query: string; variables: Record<string, unknown> }> = {
    chart: (index) => ({
      query: CHART,
      variables: { id: chartPatients[(index * 7919) % chartPatients.length], from },
    }),
    'search rare name': (index) => ({ query: SEARCH, variables: { search: searches['rare name']!(index) } }),
    'search MRN exact': (index) => ({ query: SEARCH, variables: { search: searches['MRN exact']!(index) } }),
    'search common fragment': (index) => ({
      query: SEARCH,
      variables: { search: searches['common fragment']!(index) },
    }),
  };

  const tokens = doctors.map((doctor) => doctor.token);
  console.log(
    `\n${clientCount} concurrent clients, ${requestsPerClient} requests each per kind, through the gateway (milliseconds):`,
  );
  console.log('kind                         p50      p95      p99   req/s  errors');
  for (const [kind, request] of Object.entries(kinds)) {
    // An unmeasured pass first fills the connection pools and PostgreSQL's cache.
    await measure(system, tokens, request);
    const { latencies, errors, seconds } = await measure(system, tokens, request);
    const cells = [0.5, 0.95, 0.99].map((fraction) => percentile(latencies, fraction).toFixed(0).padStart(8));
    const throughput = (latencies.length / seconds).toFixed(1).padStart(7);
    console.log(`${kind.padEnd(24)}${cells.join(' ')} ${throughput} ${String(errors).padStart(7)}`);
  }
} finally {
  if (tenantId && !options.keep) {
    await deleteTenantRows(system.clinicalDatabase.ownerUrl, system.schedulingDatabase.ownerUrl, tenantId);
  }
  await system.stop();
}
