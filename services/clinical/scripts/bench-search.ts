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
import { formatMrn } from '../src/patients/mrn.js';
import { digitsOf, searchTextOf, sortKeysOf } from '../src/patients/normalize.js';
import { startHarness, type ClinicalHarness } from '../src/testing/harness.js';
import { SEARCH_PATIENTS } from '../src/testing/fixtures.js';

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

const GIVEN = [
  'María',
  'José',
  'Anna',
  'Jean',
  'Zoë',
  'Mohammed',
  'Aiko',
  'Olga',
  'Chidi',
  'Søren',
  'Liam',
  'Noor',
  'Ana',
  'Luis',
  'Priya',
  'Mateo',
  'Chloé',
  'Ivan',
  'Fatima',
  'Kenji',
];
const FAMILY = [
  'García',
  'Müller',
  "O'Brien",
  'Nguyễn',
  'Smith',
  'Kowalski',
  'Johansson',
  'Pérez',
  'Rossi',
  'Öztürk',
  'Dubois',
  'Silva',
  'Tanaka',
  'Okafor',
  'Ivanova',
  'Larsen',
  'Novák',
  'Haddad',
  'Fernández',
  'Łukasik',
];
const PHONE_PREFIXES = ['1555', '44207946', '3461234', '4930123'];
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'to', 'ne', 'su', 'vi', 'de', 'gu', 'ba', 'ri', 'zo', 'fe', 'ha'];

/**
 * Returns the family name of patient `index`. Three in ten carry one of the common names above, the rest
 * one of 3375 made-up names, so that searches meet both very common and rare names as in a real register.
 */
function familyOf(index: number): string {
  if (index % 10 < 3) return FAMILY[Math.floor(index / GIVEN.length) % FAMILY.length]!;
  return madeUpName((index * 2654435761) % 3375);
}

function madeUpName(code: number): string {
  const name = [code % 15, Math.floor(code / 15) % 15, Math.floor(code / 225) % 15]
    .map((syllable) => SYLLABLES[syllable])
    .join('');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Searches per kind; each client picks queries from its kind's list in turn. */
const QUERIES: Record<string, (index: number) => string> = {
  'common fragment': (index) =>
    ['garc', 'ller', 'brie', 'kowal', 'johan', 'ssi', 'dubo', 'tanak'][index % 8]!,
  'rare name': (index) => madeUpName((index * 7919) % 3375).toLowerCase(),
  'rare fragment': (index) =>
    madeUpName((index * 7919) % 3375)
      .toLowerCase()
      .slice(1, 5),
  'given and family': (index) =>
    ['maria garcia', 'jose muller', 'anna smith', 'zoe obrien', 'luis perez'][index % 5]!,
  'phone with +': (index) =>
    `+${PHONE_PREFIXES[index % PHONE_PREFIXES.length]} ${String(index % 100).padStart(2, '0')}`,
  'phone digits': (index) => String(1_000_000 + ((index * 7919) % patientCount)).slice(1, 7),
  'MRN exact': (index) => formatMrn(1 + ((index * 7919) % patientCount)),
  'MRN prefix': (index) => formatMrn(1 + ((index * 7919) % patientCount)).slice(0, 8),
  'no search': () => '',
};

function positive(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`${name} must be a positive integer, got ${value}.`);
  return parsed;
}

/** Inserts the synthetic patients in batches, as the app role inside the tenant, like the service writes. */
async function insertPatients(appUrl: string, tenantId: string): Promise<void> {
  const client = new pg.Client({ connectionString: appUrl });
  await client.connect();
  try {
    const batchSize = 5_000;
    for (let start = 0; start < patientCount; start += batchSize) {
      const columns: Record<string, unknown[]> = {
        id: [],
        mrn: [],
        given: [],
        family: [],
        sex: [],
        birth: [],
        phone: [],
        digits: [],
        search: [],
        familyKey: [],
        givenKey: [],
      };
      for (let index = start; index < Math.min(start + batchSize, patientCount); index++) {
        const given = [
          GIVEN[index % GIVEN.length]!,
          ...(index % 3 === 0 ? [GIVEN[(index * 7) % GIVEN.length]!] : []),
        ];
        const family = familyOf(index);
        const mrn = formatMrn(index + 1);
        const prefix = PHONE_PREFIXES[index % PHONE_PREFIXES.length]!;
        const phone = index % 5 === 4 ? null : `+${prefix}${String(index).padStart(11 - prefix.length, '0')}`;
        const phoneDigits = phone ? digitsOf(phone) : null;
        columns.id!.push(newId());
        columns.mrn!.push(mrn);
        columns.given!.push(JSON.stringify(given));
        columns.family!.push(family);
        columns.sex!.push(index % 2 ? 'FEMALE' : 'MALE');
        columns.birth!.push(
          `${1930 + (index % 90)}-${String(1 + (index % 12)).padStart(2, '0')}-${String(1 + (index % 28)).padStart(2, '0')}`,
        );
        columns.phone!.push(phone);
        columns.digits!.push(phoneDigits);
        columns.search!.push(searchTextOf({ given, family, mrn, phoneDigits }));
        const keys = sortKeysOf({ given, family });
        columns.familyKey!.push(keys.familyKey);
        columns.givenKey!.push(keys.givenKey);
      }

      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
      await client.query(
        `insert into clinical.patients (tenant_id, id, mrn, given_names, family_name, sex, birth_date, phone, phone_digits,
           search_text, family_key, given_key, created_at, updated_at)
         select $1, id, mrn, given::jsonb, family, sex, birth::date, phone, digits, search, family_key, given_key, now(), now()
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
           as batch (id, mrn, given, family, sex, birth, phone, digits, search, family_key, given_key)`,
        [
          tenantId,
          columns.id,
          columns.mrn,
          columns.given,
          columns.family,
          columns.sex,
          columns.birth,
          columns.phone,
          columns.digits,
          columns.search,
          columns.familyKey,
          columns.givenKey,
        ],
      );
      await client.query(
        'insert into clinical.mrn_counters (tenant_id, last_value) values ($1, $2) on conflict (tenant_id) do update set last_value = excluded.last_value',
        [tenantId, Math.min(start + batchSize, patientCount)],
      );
      await client.query('commit');
    }
  } finally {
    await client.end();
  }
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
  await insertPatients(harness.database.appUrl, tenantId);
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
  for (const [kind, query] of Object.entries(QUERIES)) {
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
