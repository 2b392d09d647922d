// Booking throughput and latency under contention, against the in-process subgraph and the local
// PostgreSQL (the test database, HMS_TEST_DATABASE or hms_test):
//
//   npx tsx services/scheduling/scripts/bench-booking.ts [--clients 50] [--rounds 10]
//
// "same slot": each round, every client books the same slot for its own patient; one wins and the
// rest get CONFLICT from the exclusion constraint. "different slots": each client books a slot of
// its own. Prints requests per second and latency percentiles, then deletes the tenant's rows,
// outbox included.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startHarness } from '../src/testing/harness.js';
import { SET_SCHEDULE } from '../src/testing/fixtures.js';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '50' }, rounds: { type: 'string', default: '10' } },
});
const clients = Number(values.clients);
const rounds = Number(values.rounds);
if (!Number.isInteger(clients) || clients < 1 || !Number.isInteger(rounds) || rounds < 1) {
  throw new Error('--clients and --rounds must be positive integers.');
}

const BOOK = `mutation ($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }`;
const TABLES = [
  'appointments',
  'schedules',
  'practitioners',
  'patients',
  'tenant_settings',
  'applied_events',
  'outbox',
];

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)]!;
}

const harness = await startHarness();
const admin = new pg.Client({ connectionString: harness.database.adminUrl });
await admin.connect();
const tenantId = await harness.createTenant();
try {
  // Setup: one practitioner working around the clock in 5-minute slots, one patient per client.
  const token = await harness.token(tenantId);
  const practitionerId = await harness.addPractitioner(tenantId);
  const weekdays = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
  const schedule = await harness.graphql(
    SET_SCHEDULE,
    {
      input: {
        practitionerId,
        department: 'bench',
        slotMinutes: 5,
        weeklyHours: weekdays.map((weekday) => ({ weekday, start: '00:00', end: '24:00' })),
      },
    },
    token,
  );
  if (schedule.body.errors) throw new Error(JSON.stringify(schedule.body.errors));
  const patients = await Promise.all(Array.from({ length: clients }, () => harness.addPatient(tenantId)));
  // Each round books on a day of its own, a year ahead, so rounds never collide.
  const base = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1);
  const slotOf = (round: number, index: number) =>
    new Date(base + round * 86_400_000 + index * 300_000).toISOString();

  const run = async (
    name: string,
    startsAt: (round: number, client: number) => string,
    roundOffset: number,
  ) => {
    const latencies: number[] = [];
    let booked = 0;
    let conflicts = 0;
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        patients.map(async (patientId, client) => {
          const sent = performance.now();
          const { body } = await harness.graphql(
            BOOK,
            { input: { practitionerId, patientId, startsAt: startsAt(round + roundOffset, client) } },
            token,
          );
          latencies.push(performance.now() - sent);
          if (!body.errors) booked++;
          else if (body.errors[0]?.extensions?.code === 'CONFLICT') conflicts++;
          else throw new Error(JSON.stringify(body.errors));
        }),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `${name}: ${latencies.length} requests from ${clients} clients in ${seconds.toFixed(2)} s, ` +
        `${(latencies.length / seconds).toFixed(0)} requests/s, booked ${booked}, conflicts ${conflicts}, ` +
        `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p95 ${percentile(latencies, 0.95).toFixed(1)} ms, ` +
        `max ${latencies.at(-1)!.toFixed(1)} ms`,
    );
  };

  await run('same slot', (round) => slotOf(round, 0), 0);
  await run('different slots', (round, client) => slotOf(round, client), rounds);
} finally {
  for (const table of TABLES)
    await admin.query(`delete from scheduling.${table} where tenant_id = $1`, [tenantId]);
  await admin.end();
  await harness.stop();
}
