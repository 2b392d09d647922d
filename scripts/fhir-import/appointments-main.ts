// Command line of the appointment import; see --help. Prints the summary as JSON on stdout.
import { parseArgs } from 'node:util';
import { readCredentials } from '../demo/credentials.js';
import { importAppointments } from './appointments.js';

const USAGE = `Usage: npx tsx scripts/fhir-import/appointments-main.ts [options] <bundle file or folder>...

Imports the finished ambulatory encounters of Synthea FHIR R4 bundles as completed
appointments, creating their practitioners as users with the doctor role where
missing. Import the patients first (scripts/fhir-import/main.ts). Runs again safely.

Options (environment variable in brackets):
  --credentials FILE    sign in as the tenant_admin of the first tenant of a
                        demo credentials file (.local/demo-credentials.json)
  --gateway URL         GraphQL endpoint of the gateway [HMS_IMPORT_GATEWAY]
  --tenant SLUG         tenant to import into [HMS_IMPORT_TENANT]
  --email EMAIL         login email of a tenant_admin [HMS_IMPORT_EMAIL]
  --password PASSWORD   login password [HMS_IMPORT_PASSWORD]; prefer the variable
  --concurrency N       batches of up to 100 encounters sent at once (default 2)
  -h, --help            show this text`;

function fail(message: string): never {
  process.stderr.write(`appointment import: ${message}\n\n${USAGE}\n`);
  process.exit(1);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        credentials: { type: 'string' },
        gateway: { type: 'string' },
        tenant: { type: 'string' },
        email: { type: 'string' },
        password: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

let gatewayUrl = values.gateway ?? process.env.HMS_IMPORT_GATEWAY ?? 'http://127.0.0.1:4000/graphql';
let tenantSlug = values.tenant ?? process.env.HMS_IMPORT_TENANT;
let email = values.email ?? process.env.HMS_IMPORT_EMAIL;
let password = values.password ?? process.env.HMS_IMPORT_PASSWORD;
if (values.credentials) {
  const credentials = readCredentials(values.credentials);
  if (!credentials) fail(`${values.credentials} does not exist; run scripts/start first`);
  const tenant = credentials.tenants[0];
  const admin = tenant?.users.find((user) => user.roles.includes('tenant_admin'));
  if (!tenant || !admin) fail(`${values.credentials} has no tenant with a tenant_admin`);
  gatewayUrl = credentials.gatewayUrl;
  tenantSlug = tenant.slug;
  email = admin.email;
  password = admin.password;
}
if (!tenantSlug || !email || !password)
  fail('--tenant, --email and --password (or --credentials) are required');
if (positionals.length === 0) fail('name at least one bundle file or folder');
const concurrency = Number(values.concurrency ?? '2');
if (!Number.isInteger(concurrency) || concurrency < 1) {
  fail(`--concurrency must be a positive integer, got "${values.concurrency}"`);
}

try {
  const summary = await importAppointments({
    gatewayUrl,
    tenantSlug,
    email,
    password,
    paths: positionals,
    concurrency,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
