// Measures the import of Synthea's ambulatory encounters as past appointments. It starts identity,
// clinical, scheduling, the gateway (with its default rate limits) and the outbox relays in this
// process, on free loopback ports and against the test database (HMS_TEST_DATABASE). It then creates
// a tenant and imports the bundles' patients without history. Once scheduling has copied them, it
// runs the appointment import twice and prints the time and counts of each run.
//
// Usage: HMS_TEST_DATABASE=hms_test npx tsx scripts/bench/appointment-import.ts [--once] FHIR_DIR...
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startSystem } from '../e2e/harness.js';
import { importAppointments, type AppointmentImportSummary } from '../fhir-import/appointments.js';
import { importFhir } from '../fhir-import/import.js';

function report(label: string, seconds: number, summary: AppointmentImportSummary, waits: number): void {
  console.log(
    `${label}: ${seconds.toFixed(1)} s for ${summary.read} encounters (${summary.created} created, ` +
      `${summary.existing} existing, ${summary.skipped} skipped, ${summary.failed} failed), ` +
      `${summary.practitionersCreated} practitioners created, ${waits} replica wait lines`,
  );
  for (const failure of summary.failures.slice(0, 5))
    console.log(`  failed ${failure.encounterId}: ${failure.reason}`);
}

/** Polls scheduling's copy of the tenant's patients until it has `expected` of them, for at most 60 s. */
async function waitForSchedulingPatients(
  adminUrl: string,
  tenantId: string,
  expected: number,
): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await admin.query<{ count: string }>(
        'select count(*) from scheduling.patients where tenant_id = $1',
        [tenantId],
      );
      if (Number(rows[0]!.count) >= expected) return;
      if (Date.now() > deadline) {
        throw new Error(
          `Scheduling copied ${rows[0]!.count} of ${expected} patients within 60 s; its consumer may have joined after the patient events.`,
        );
      }
      await sleep(500);
    }
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { once: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new Error('Usage: appointment-import.ts [--once] FHIR_DIR...');
  const system = await startSystem({ events: true });
  try {
    // The consumers of this run start at the newest events once their groups join, so the patient
    // events must come after that. NOTE: 10 s is an estimate of the join time on a loaded machine.
    await sleep(10_000);
    const tenant = await system.identity.createTenant();
    const options = {
      gatewayUrl: system.gatewayUrl,
      tenantSlug: tenant.slug,
      email: tenant.adminEmail,
      password: tenant.adminPassword,
      paths: positionals,
    };
    const patientsStarted = performance.now();
    const patients = await importFhir({ ...options, history: false, log: () => undefined });
    console.log(
      `patients: ${((performance.now() - patientsStarted) / 1000).toFixed(1)} s, ${patients.created} created, ${patients.failed} failed`,
    );
    await waitForSchedulingPatients(system.schedulingDatabase.adminUrl, tenant.id, patients.created);

    const run = async (label: string) => {
      let waits = 0;
      const started = performance.now();
      const summary = await importAppointments({
        ...options,
        log: (line) => {
          if (line.startsWith('Waiting')) waits++;
          process.stderr.write(`appointment import: ${line}\n`);
        },
      });
      report(label, (performance.now() - started) / 1000, summary, waits);
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
