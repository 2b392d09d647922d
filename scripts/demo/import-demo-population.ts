// Imports a Synthea population with its clinical history into the first demo tenant through the
// gateway, as the tenant's "FHIR import" user (which the tenant's administrator sets up first), and
// prints the importer's summary. The importer's line per skipped resource goes to
// .local/logs/fhir-import.log, where scripts/start keeps the services' logs.
//
// Usage: npx tsx scripts/demo/import-demo-population.ts --credentials FILE FHIR_DIR
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatResourceCounts, importFhir } from '../fhir-import/import.js';
import { ensureImportUser } from '../fhir-import/import-user.js';
import { readCredentials } from './credentials.js';

const DETAIL_LOG = '.local/logs/fhir-import.log';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { credentials: { type: 'string' } },
    allowPositionals: true,
  });
  const credentials = values.credentials ? readCredentials(values.credentials) : undefined;
  if (!credentials || positionals.length === 0) {
    throw new Error(
      'Usage: import-demo-population.ts --credentials FILE FHIR_DIR (run scripts/demo/seed.ts first).',
    );
  }
  const tenant = credentials.tenants[0];
  const admin = tenant?.users.find((user) => user.roles.includes('tenant_admin'));
  if (!tenant || !admin) throw new Error(`${values.credentials} has no tenant with a tenant_admin.`);

  const importUser = await ensureImportUser({
    gatewayUrl: credentials.gatewayUrl,
    tenantSlug: tenant.slug,
    email: admin.email,
    password: admin.password,
  });
  mkdirSync(dirname(DETAIL_LOG), { recursive: true });
  writeFileSync(DETAIL_LOG, '');
  const started = Date.now();
  const summary = await importFhir({
    gatewayUrl: credentials.gatewayUrl,
    tenantSlug: tenant.slug,
    email: importUser.email,
    password: importUser.password,
    // The administrator finds or creates each encounter's practitioner, who becomes its attending.
    // The appointment import that runs next finds the same users by their NPI email.
    practitionerAccount: { email: admin.email, password: admin.password },
    paths: positionals,
    log: (line) => appendFileSync(DETAIL_LOG, `${line}\n`),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `Imported the Synthea population into ${tenant.slug} in ${seconds} s: read ${summary.read} patients, ` +
      `created ${summary.created}, skipped ${summary.skipped}, failed ${summary.failed}; ` +
      `created ${summary.practitionersCreated} practitioners.`,
  );
  for (const [reason, count] of Object.entries(summary.skippedReasons))
    console.log(`  skipped (${reason}): ${count}`);
  for (const failure of summary.failures.slice(0, 10))
    console.log(`  failed ${failure.fhirId ?? failure.file}: ${failure.reason}`);
  for (const line of formatResourceCounts(summary.resources)) console.log(line);
  console.log(`Each skipped resource is listed in ${DETAIL_LOG}.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
