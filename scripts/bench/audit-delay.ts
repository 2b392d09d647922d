// Measures the delay from a write at the gateway to its audit record: registers patients one at a
// time through the gateway of a running system (scripts/start) and polls the audit log until each
// registration's CREATE record is stored and chained. Prints the median, p95 and p99 in milliseconds.
// The polls go straight to the audit subgraph, because polling through the gateway every few
// milliseconds would hit the gateway's per-user rate limit.
//
// Usage: npx tsx scripts/bench/audit-delay.ts [--writes 100] [--poll-ms 10]
//          [--credentials .local/demo-credentials.json] [--audit-url http://127.0.0.1:4007/graphql]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { readCredentials } from '../demo/credentials.js';
import { GraphQLClient } from '../demo/graphql-client.js';

const REGISTER = 'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }';
const CREATE_RECORDS = `query ($filter: AuditRecordFilter) { auditRecords(filter: $filter, first: 1) { totalCount } }`;
const TIMEOUT_MS = 30_000;

function percentile(sorted: number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      writes: { type: 'string', default: '100' },
      'poll-ms': { type: 'string', default: '10' },
      credentials: { type: 'string', default: '.local/demo-credentials.json' },
      'audit-url': {
        type: 'string',
        default: `http://127.0.0.1:${process.env.HMS_AUDIT_PORT ?? 4007}/graphql`,
      },
    },
  });
  const writes = Number(values.writes);
  const pollMs = Number(values['poll-ms']);
  const credentials = readCredentials(values.credentials);
  const tenant = credentials?.tenants[0];
  const admin = tenant?.users.find((user) => user.roles.includes('tenant_admin'));
  if (!credentials || !tenant || !admin)
    throw new Error(`${values.credentials} is missing; run scripts/start first.`);

  const client = new GraphQLClient(credentials.gatewayUrl);
  const accessToken = await client.login({
    tenantSlug: tenant.slug,
    email: admin.email,
    password: admin.password,
  });
  const audit = new GraphQLClient(values['audit-url']);
  audit.useToken(accessToken);

  const delays: number[] = [];
  for (let index = 0; index < writes; index += 1) {
    const started = performance.now();
    const { registerPatient } = await client.request<{ registerPatient: { id: string } }>(REGISTER, {
      input: {
        name: { given: ['Bench'], family: `Delay${randomBytes(4).toString('hex')}` },
        sex: 'UNKNOWN',
        birthDate: '1975-06-15',
      },
    });

    const filter = { patientId: registerPatient.id, operation: 'CREATE' };
    for (;;) {
      const { auditRecords } = await audit.request<{ auditRecords: { totalCount: number } }>(CREATE_RECORDS, {
        filter,
      });
      if (auditRecords.totalCount > 0) break;
      if (performance.now() - started > TIMEOUT_MS)
        throw new Error(`No audit record for patient ${registerPatient.id} after ${TIMEOUT_MS} ms.`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    delays.push(performance.now() - started);
  }

  delays.sort((a, b) => a - b);
  const format = (value: number) => value.toFixed(0);
  console.log(
    `Write at the gateway to stored audit record, ${writes} sequential writes, polled every ${pollMs} ms:`,
  );
  console.log(
    `  median ${format(percentile(delays, 0.5))} ms, p95 ${format(percentile(delays, 0.95))} ms, p99 ${format(percentile(delays, 0.99))} ms, max ${format(delays.at(-1) ?? Number.NaN)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
