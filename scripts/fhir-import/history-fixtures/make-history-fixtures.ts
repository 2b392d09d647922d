// Rebuilds the history fixtures from the demo population's Synthea output.
// Commands:
//   scripts/synthea/generate --seed 42 --population 150
//   npx tsx scripts/fhir-import/history-fixtures/make-history-fixtures.ts .local/synthea/output/seed-42-p150/fhir
// Each fixture is one patient's bundle cut down to the resource types the
// importer reads, written on one line to keep the files small. The two
// patients have outpatient, emergency and inpatient encounters, allergies,
// and prescriptions with and without a dose.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PATIENTS = [
  'Ernesto186_Hudson301_f328481a-382e-8e88-7b88-6b49d8ca2b11.json',
  'Marquis364_Gleichner915_2b1f67b4-0f8f-36e2-9eee-b6655efdfc0a.json',
];
const KEPT = new Set([
  'Patient',
  'Encounter',
  'Condition',
  'Observation',
  'AllergyIntolerance',
  'MedicationRequest',
  'Medication',
]);

const source = process.argv[2];
if (!source) {
  process.stderr.write('usage: make-history-fixtures.ts <synthea output>/fhir\n');
  process.exit(1);
}
const target = dirname(fileURLToPath(import.meta.url));
for (const name of PATIENTS) {
  const bundle = JSON.parse(await readFile(join(source, name), 'utf8')) as {
    entry?: { resource?: { resourceType?: string } }[];
  };
  bundle.entry = (bundle.entry ?? []).filter((entry) => KEPT.has(entry.resource?.resourceType ?? ''));
  await writeFile(join(target, name), `${JSON.stringify(bundle)}\n`);
}
