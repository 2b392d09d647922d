// Measures the FHIR import of a Synthea population with its clinical history.
// It starts identity, clinical and the gateway in this process on free
// loopback ports against the test database (HMS_TEST_DATABASE) and creates a
// tenant. Then it runs the importer on the bundles twice and prints the time
// and counts of each run.
//
// Usage: HMS_TEST_DATABASE=hms_test npx tsx scripts/bench/fhir-import.ts
//          [--concurrency 4] [--request-concurrency 4] [--once] FHIR_DIR
import { parseArgs } from 'node:util';
import { startSystem } from '../e2e/harness.js';
import { formatResourceCounts, importFhir, type ImportSummary } from '../fhir-import/import.js';
import { ensureImportUser } from '../fhir-import/import-user.js';

function report(label: string, seconds: number, summary: ImportSummary): void {
  const records = Object.values(summary.resources).reduce((total, counts) => total + counts.created, 0);
  console.log(
    `${label}: ${seconds.toFixed(1)} s for ${summary.read} patients (${summary.created} created, ` +
      `${summary.skipped} skipped, ${summary.failed} failed), ${records} history records created ` +
      `(${(records / seconds).toFixed(0)} records/s)`,
  );
  for (const line of formatResourceCounts(summary.resources)) console.log(line);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      concurrency: { type: 'string', default: '4' },
      'request-concurrency': { type: 'string', default: '4' },
      once: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new Error('Usage: fhir-import.ts [options] FHIR_DIR');
  const system = await startSystem();
  try {
    const tenant = await system.identity.createTenant();
    const importUser = await ensureImportUser({
      gatewayUrl: system.gatewayUrl,
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
    });
    const run = async (label: string) => {
      const started = performance.now();
      const summary = await importFhir({
        gatewayUrl: system.gatewayUrl,
        tenantSlug: tenant.slug,
        email: importUser.email,
        password: importUser.password,
        paths: positionals,
        concurrency: Number(values.concurrency),
        requestConcurrency: Number(values['request-concurrency']),
        log: (line) => {
          if (!line.startsWith('skipped: ')) process.stderr.write(`fhir-import: ${line}\n`);
        },
      });
      report(label, (performance.now() - started) / 1000, summary);
    };
    await run('first run');
    if (!values.once) await run('second run');
  } finally {
    await system.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
