// Command line of the FHIR importer; see `--help`. Prints the summary as JSON
// on stdout and everything else on stderr, so the output can be piped to jq.
import { parseArgs } from 'node:util';
import { importFhir, ImportFatalError } from './import.js';

const USAGE = `Usage: npx tsx scripts/fhir-import/main.ts [options] <bundle file or folder>...

Registers the patients of Synthea FHIR R4 bundles in a tenant through the
gateway, with their encounters, conditions, vital signs, allergies and
prescriptions. Runs again safely: patients imported before are counted as
skipped and records imported before as already imported.

Options (environment variable in brackets):
  --gateway URL         GraphQL endpoint of the gateway [HMS_IMPORT_GATEWAY]
                        (default http://127.0.0.1:4000/graphql)
  --tenant SLUG         tenant to import into [HMS_IMPORT_TENANT]
  --email EMAIL         login email [HMS_IMPORT_EMAIL]
  --phone PHONE         login phone, instead of an email [HMS_IMPORT_PHONE]
  --password PASSWORD   login password [HMS_IMPORT_PASSWORD]; prefer the
                        variable, since arguments are visible to other users
  --practitioner-email EMAIL
                        a user with user:read and user:manage (a tenant_admin)
                        that finds or creates each encounter's practitioner as
                        a doctor, who becomes its attending; without it the
                        login user is the attending [HMS_IMPORT_PRACTITIONER_EMAIL]
                        Its password is read from HMS_IMPORT_PRACTITIONER_PASSWORD.
  --concurrency N       patients sent at once (default 4) [HMS_IMPORT_CONCURRENCY]
  --request-concurrency N
                        requests of one patient's history sent at once
                        (default 4)
  --batch-size N        creates of the history sent in one request (default 15,
                        the gateway's default limit of aliases per operation)
  --patients-only       register the patients without their clinical history
  --progress-every N    patients between progress lines (default 100)
  --max-attempts N      attempts per request, retries included (default 5)
  -h, --help            show this text

Exit status: 0 when the run completed, even with failed patients; 1 when it
could not start or had to stop (bad arguments, rejected login, no permission,
gateway unreachable); the summary is printed in both cases.`;

function fail(message: string): never {
  process.stderr.write(`fhir-import: ${message}\n\n${USAGE}\n`);
  process.exit(1);
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) fail(`${name} must be a positive integer, got "${value}"`);
  return parsed;
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      gateway: { type: 'string' },
      tenant: { type: 'string' },
      email: { type: 'string' },
      phone: { type: 'string' },
      password: { type: 'string' },
      'practitioner-email': { type: 'string' },
      concurrency: { type: 'string' },
      'request-concurrency': { type: 'string' },
      'patients-only': { type: 'boolean' },
      'batch-size': { type: 'string' },
      'progress-every': { type: 'string' },
      'max-attempts': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const env = process.env;
const gatewayUrl = values.gateway ?? env.HMS_IMPORT_GATEWAY ?? 'http://127.0.0.1:4000/graphql';
const tenantSlug = values.tenant ?? env.HMS_IMPORT_TENANT;
const email = values.email ?? env.HMS_IMPORT_EMAIL;
const phone = values.phone ?? env.HMS_IMPORT_PHONE;
const password = values.password ?? env.HMS_IMPORT_PASSWORD;
if (!tenantSlug) fail('--tenant (or HMS_IMPORT_TENANT) is required');
if (!email && !phone) fail('--email or --phone (or HMS_IMPORT_EMAIL / HMS_IMPORT_PHONE) is required');
if (!password) fail('--password (or HMS_IMPORT_PASSWORD) is required');
if (positionals.length === 0) fail('name at least one bundle file or folder');
const practitionerEmail = values['practitioner-email'] ?? env.HMS_IMPORT_PRACTITIONER_EMAIL;
const practitionerPassword = env.HMS_IMPORT_PRACTITIONER_PASSWORD;
if (practitionerEmail && !practitionerPassword) {
  fail('HMS_IMPORT_PRACTITIONER_PASSWORD is required with --practitioner-email');
}
try {
  new URL(gatewayUrl);
} catch {
  fail(`--gateway "${gatewayUrl}" is not a URL`);
}

try {
  const summary = await importFhir({
    gatewayUrl,
    tenantSlug,
    email,
    phone,
    password,
    paths: positionals,
    practitionerAccount: practitionerEmail
      ? { email: practitionerEmail, password: practitionerPassword! }
      : undefined,
    concurrency: positiveInteger('--concurrency', values.concurrency ?? env.HMS_IMPORT_CONCURRENCY, 4),
    requestConcurrency: positiveInteger('--request-concurrency', values['request-concurrency'], 4),
    batchSize: positiveInteger('--batch-size', values['batch-size'], 15),
    history: values['patients-only'] !== true,
    progressEvery: positiveInteger('--progress-every', values['progress-every'], 100),
    maxAttempts: positiveInteger('--max-attempts', values['max-attempts'], 5),
  });
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} catch (error) {
  if (!(error instanceof ImportFatalError)) throw error;
  process.stdout.write(`${JSON.stringify(error.summary, null, 2)}\n`);
  process.stderr.write(`fhir-import: ${error.message}\n`);
  process.exitCode = 1;
}
