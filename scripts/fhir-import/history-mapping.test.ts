import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { listBundleFiles, readPatients } from './bundles.js';
import {
  mapHistory,
  NOT_A_VITAL_SIGN,
  referencedId,
  sourceIdOf,
  STOPPED_WITHOUT_REASON,
  type HistoryPlan,
} from './history-mapping.js';

const FIXTURES = fileURLToPath(new URL('./history-fixtures/', import.meta.url));
const ERNESTO_FILE = `${FIXTURES}Ernesto186_Hudson301_f328481a-382e-8e88-7b88-6b49d8ca2b11.json`;
const MARQUIS_FILE = `${FIXTURES}Marquis364_Gleichner915_2b1f67b4-0f8f-36e2-9eee-b6655efdfc0a.json`;
// The fixtures were generated on 2026-12-04; the last record ends before this.
const NOW = new Date('2026-12-05T00:00:00Z');

async function resourcesOf(file: string): Promise<Record<string, unknown>[]> {
  const bundle = JSON.parse(await readFile(file, 'utf8')) as {
    entry: { resource: Record<string, unknown> }[];
  };
  return bundle.entry.map((entry) => entry.resource);
}

async function planOf(file: string): Promise<HistoryPlan> {
  return mapHistory(await resourcesOf(file), { now: NOW });
}

function countOf(resources: Record<string, unknown>[], type: string): number {
  return resources.filter((resource) => resource.resourceType === type).length;
}

test('readPatients passes the clinical resources of the bundle', async () => {
  const items = [];
  for await (const item of readPatients(await listBundleFiles([ERNESTO_FILE]))) items.push(item);
  assert.equal(items.length, 1);
  const item = items[0];
  assert.equal(item?.kind, 'patient');
  if (item?.kind !== 'patient') return;
  assert.equal(countOf(item.resources as Record<string, unknown>[], 'Encounter'), 22);
  assert.equal(countOf(item.resources as Record<string, unknown>[], 'Medication'), 5);
  assert.equal(countOf(item.resources as Record<string, unknown>[], 'Patient'), 0);
});

test('mapHistory accounts for every resource of a real bundle', async () => {
  for (const file of [ERNESTO_FILE, MARQUIS_FILE]) {
    const resources = await resourcesOf(file);
    const plan = mapHistory(resources, { now: NOW });
    const skipped = (type: string) => plan.skipped.filter((entry) => entry.resourceType === type).length;
    const panelObservations = plan.vitals.flatMap((panel) => Object.values(panel.observationIds).flat());

    assert.equal(plan.encounters.length + skipped('Encounter'), countOf(resources, 'Encounter'), file);
    assert.equal(plan.problems.length + skipped('Condition'), countOf(resources, 'Condition'), file);
    assert.equal(
      panelObservations.length + skipped('Observation') + plan.notVitalSigns,
      countOf(resources, 'Observation'),
      file,
    );
    assert.equal(
      plan.allergies.length + skipped('AllergyIntolerance'),
      countOf(resources, 'AllergyIntolerance'),
    );
    assert.equal(
      plan.prescriptions.length + skipped('MedicationRequest'),
      countOf(resources, 'MedicationRequest'),
    );
  }
});

test('mapHistory maps ambulatory, emergency and inpatient encounters', async () => {
  const plan = await planOf(ERNESTO_FILE);
  const byMutation = (mutation: string) => plan.encounters.filter((entry) => entry.mutation === mutation);
  assert.equal(byMutation('openEncounter').length, 21);
  assert.equal(byMutation('recordPastAdmission').length, 1);

  const stay = plan.encounters.find((entry) => entry.fhirId === '0c22559c-8736-0a19-cc3a-a6b809323f47');
  assert.deepEqual(stay, {
    fhirId: '0c22559c-8736-0a19-cc3a-a6b809323f47',
    mutation: 'recordPastAdmission',
    input: {
      sourceId: 'synthea:Encounter/0c22559c-8736-0a19-cc3a-a6b809323f47',
      chiefComplaint: 'Patient transfer to skilled nursing facility (procedure)',
      admittedAt: '2019-08-18T05:04:34.000Z',
      dischargedAt: '2019-09-02T05:19:34.000Z',
    },
    practitioner: { npi: '9999877597', name: 'Dr. Phillip440 Koch169' },
  });
  const emergency = plan.encounters.find(
    (entry) => entry.mutation === 'openEncounter' && entry.input.class === 'EMERGENCY',
  );
  assert.equal(emergency?.mutation, 'openEncounter');
  if (emergency?.mutation !== 'openEncounter') return;
  assert.ok(emergency.input.endedAt > emergency.input.startedAt);
});

test('mapHistory puts conditions on the problem list and on their encounter', async () => {
  const resources = await resourcesOf(ERNESTO_FILE);
  const plan = mapHistory(resources, { now: NOW });
  const condition = resources.find(
    (resource) => resource.resourceType === 'Condition' && resource.abatementDateTime !== undefined,
  ) as { id: string; encounter: { reference: string }; abatementDateTime: string; onsetDateTime: string };
  assert.ok(condition);

  const problem = plan.problems.find((entry) => entry.fhirId === condition.id);
  assert.equal(problem?.input.sourceId, `synthea:Condition/${condition.id}`);
  assert.equal(problem?.input.condition.system, 'SNOMED_CT');
  assert.equal(problem?.input.resolvedAt, new Date(condition.abatementDateTime).toISOString());
  assert.equal(problem?.input.onsetAt, new Date(condition.onsetDateTime).toISOString());
  const encounterFhirId = referencedId(condition.encounter, 'Encounter');
  assert.equal(problem?.encounterFhirId, encounterFhirId);

  const encounter = plan.encounters.find((entry) => entry.fhirId === encounterFhirId);
  const diagnosis = encounter?.input.diagnoses?.find((entry) => entry.sourceId === problem?.input.sourceId);
  assert.equal(diagnosis?.codeSystem, 'SNOMED_CT');
  assert.equal(diagnosis?.text, problem?.input.condition.display);
  const carried = [...plan.diagnosisCount.values()].reduce((total, count) => total + count, 0);
  assert.equal(carried, plan.problems.filter((entry) => entry.encounterFhirId !== undefined).length);
});

test('mapHistory keeps a condition resolving after now active', () => {
  const plan = mapHistory(
    [
      {
        resourceType: 'Condition',
        id: 'c1',
        clinicalStatus: { coding: [{ code: 'resolved' }] },
        code: {
          coding: [{ system: 'http://snomed.info/sct', code: '444814009', display: 'Viral sinusitis' }],
        },
        onsetDateTime: '2026-11-20T10:00:00+00:00',
        abatementDateTime: '2026-12-20T10:00:00+00:00',
      },
      {
        resourceType: 'Condition',
        id: 'c2',
        clinicalStatus: { coding: [{ code: 'resolved' }] },
        code: { text: 'Cough' },
      },
    ],
    { now: NOW },
  );
  assert.equal(plan.problems.length, 1);
  assert.equal(plan.problems[0]?.input.resolvedAt, undefined);
  assert.deepEqual(plan.skipped, [
    { resourceType: 'Condition', fhirId: 'c2', reason: 'condition is resolved but has no abatementDateTime' },
  ]);
});

test('mapHistory groups vital signs into one panel per encounter and time', async () => {
  const resources = await resourcesOf(ERNESTO_FILE);
  const plan = mapHistory(resources, { now: NOW });
  const keys = plan.vitals.map((panel) => `${panel.encounterFhirId}|${panel.input.effectiveAt}`);
  assert.equal(new Set(keys).size, keys.length);

  const panel = plan.vitals.find((entry) => entry.input.bloodPressure !== undefined);
  assert.ok(panel);
  assert.equal(panel.input.bloodPressure?.unit, 'mm[Hg]');
  assert.ok((panel.input.bloodPressure?.systolic ?? 0) > (panel.input.bloodPressure?.diastolic ?? 0));
  assert.equal(panel.input.heartRate?.unit, '/min');
  assert.equal(panel.input.bodyWeight?.unit, 'kg');
  const firstId = Object.values(panel.observationIds).flat()[0];
  assert.ok(firstId);
  assert.ok(
    Object.values(panel.observationIds)
      .flat()
      .every((id) => resources.some((r) => r.id === id)),
  );
  assert.match(panel.input.sourceId, /^synthea:Observation\/[0-9a-f-]{36}$/);

  const reasons = new Set(
    plan.skipped.filter((entry) => entry.resourceType === 'Observation').map((e) => e.reason),
  );
  assert.ok(reasons.has('body mass index: HMS computes it from height and weight'));
  assert.ok(
    [...reasons].some((reason) => reason.startsWith('vital sign HMS does not record: LOINC 72514-3')),
  );
  assert.ok(plan.notVitalSigns > 0);
  assert.ok(!reasons.has(NOT_A_VITAL_SIGN));
});

test('mapHistory maps allergies with category, status and reactions', async () => {
  const plan = await planOf(ERNESTO_FILE);
  assert.equal(plan.allergies.length, 8);
  const dander = plan.allergies.find((entry) => entry.fhirId === 'c5ff184a-ec29-e1f9-d426-81ac96f6f961');
  assert.equal(dander?.input.category, 'ENVIRONMENT');
  assert.equal(dander?.input.type, 'ALLERGY');
  assert.equal(dander?.input.criticality, 'LOW');
  assert.equal(dander?.input.clinicalStatus, 'ACTIVE');
  assert.equal(dander?.input.verificationStatus, 'CONFIRMED');
  assert.equal(dander?.input.reactions?.length, 4);
  assert.equal(dander?.input.substance.system, 'SNOMED_CT');
  const aspirin = plan.allergies.find((entry) => entry.fhirId === '4ec98865-0208-76fd-d0e4-372cbc7d0978');
  assert.equal(aspirin?.input.category, 'MEDICATION');
});

test('mapHistory maps prescriptions with dose, schedule and status', async () => {
  const resources = await resourcesOf(MARQUIS_FILE);
  const plan = mapHistory(resources, { now: NOW });
  assert.ok(plan.prescriptions.length > 0);
  for (const prescription of plan.prescriptions) {
    const { dose, frequency, status } = prescription.input;
    if (status === 'STOPPED') {
      assert.equal(prescription.input.statusReason, STOPPED_WITHOUT_REASON);
    }
    if (status === 'ACTIVE') {
      assert.ok(dose, `${prescription.fhirId}: an active prescription has a dose`);
      assert.ok(frequency, `${prescription.fhirId}: an active prescription has a frequency`);
    }
    if (dose) {
      assert.ok(dose.value > 0);
      assert.ok(dose.unit.length > 0);
    }
    if (frequency) assert.ok(frequency.asNeeded || (frequency.timesPerPeriod ?? 0) > 0);
  }
  assert.ok(
    plan.prescriptions.some((prescription) => !prescription.input.dose),
    'history without a dose is planned, not skipped',
  );
  const skippedReasons = plan.skipped
    .filter((entry) => entry.resourceType === 'MedicationRequest')
    .map((entry) => entry.reason);
  assert.ok(skippedReasons.every((reason) => /dose|dosage/.test(reason)));
});

test('mapHistory keeps history without dosage, never active', () => {
  const request = (id: string, status: string, dosageInstruction?: unknown[]) => ({
    resourceType: 'MedicationRequest',
    id,
    status,
    intent: 'order',
    medicationCodeableConcept: {
      coding: [
        {
          system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
          code: '313782',
          display: 'Acetaminophen 325 MG Oral Tablet',
        },
      ],
    },
    authoredOn: '2020-03-01T08:00:00+00:00',
    ...(dosageInstruction ? { dosageInstruction } : {}),
  });
  const plan = mapHistory(
    [
      request('completed', 'completed'),
      request('stopped', 'stopped', [{ timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } }]),
      request('active', 'active'),
      request('active-no-dose', 'active', [
        { timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } },
      ]),
    ],
    { now: NOW },
  );

  const byId = new Map(plan.prescriptions.map((prescription) => [prescription.fhirId, prescription.input]));
  assert.deepEqual([...byId.keys()].sort(), ['completed', 'stopped']);
  assert.equal(byId.get('completed')?.dose, undefined);
  assert.equal(byId.get('completed')?.frequency, undefined);
  assert.equal(byId.get('completed')?.status, 'COMPLETED');
  assert.equal(byId.get('stopped')?.dose, undefined);
  assert.deepEqual(byId.get('stopped')?.frequency, {
    asNeeded: false,
    timesPerPeriod: 2,
    period: 1,
    periodUnit: 'DAY',
  });
  assert.deepEqual(
    plan.skipped.map((entry) => [entry.fhirId, entry.reason]),
    [
      ['active', 'medication request has no dosage instruction, and HMS requires a dose and frequency'],
      ['active-no-dose', 'dosage instruction has no dose, and HMS requires one'],
    ],
  );
});

test('mapHistory credits the encounter practitioner by NPI', () => {
  const plan = mapHistory(
    [
      {
        resourceType: 'Encounter',
        id: 'e1',
        status: 'finished',
        class: { code: 'AMB' },
        period: { start: '2025-01-01T10:00:00+00:00', end: '2025-01-01T10:30:00+00:00' },
        participant: [
          { individual: { reference: 'Practitioner/local-id', display: 'Not by NPI' } },
          {
            individual: {
              reference: 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999994392',
              display: 'Dr. Ulysses632 Ziemann98',
            },
          },
        ],
      },
      {
        resourceType: 'Encounter',
        id: 'e2',
        status: 'finished',
        class: { code: 'EMER' },
        period: { start: '2025-01-02T10:00:00+00:00', end: '2025-01-02T10:30:00+00:00' },
      },
    ],
    { now: NOW },
  );

  assert.deepEqual(plan.encounters[0]?.practitioner, { npi: '9999994392', name: 'Dr. Ulysses632 Ziemann98' });
  assert.equal(plan.encounters[1]?.practitioner, undefined);
});

test('mapHistory resolves a medication reference to its Medication', () => {
  const plan = mapHistory(
    [
      {
        resourceType: 'Medication',
        id: 'm1',
        code: {
          coding: [
            {
              system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
              code: '308136',
              display: 'amLODIPine 2.5 MG Oral Tablet',
            },
          ],
        },
      },
      {
        resourceType: 'MedicationRequest',
        id: 'r1',
        status: 'active',
        intent: 'order',
        medicationReference: { reference: 'urn:uuid:m1' },
        encounter: { reference: 'urn:uuid:e1' },
        authoredOn: '2026-01-10T08:00:00+00:00',
        dosageInstruction: [
          {
            timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
            asNeededBoolean: false,
            doseAndRate: [{ doseQuantity: { value: 1 } }],
          },
        ],
      },
    ],
    { now: NOW },
  );
  assert.deepEqual(plan.prescriptions, [
    {
      fhirId: 'r1',
      encounterFhirId: 'e1',
      input: {
        sourceId: 'synthea:MedicationRequest/r1',
        medication: { system: 'RXNORM', code: '308136', display: 'amLODIPine 2.5 MG Oral Tablet' },
        dose: { value: 1, unit: '{tbl}' },
        frequency: { asNeeded: false, timesPerPeriod: 1, period: 1, periodUnit: 'DAY' },
        authoredAt: '2026-01-10T08:00:00.000Z',
        status: 'ACTIVE',
      },
    },
  ]);
});

test('mapHistory skips home health, virtual and unfinished encounters with a reason', () => {
  const encounter = (id: string, code: string, status = 'finished') => ({
    resourceType: 'Encounter',
    id,
    status,
    class: { code },
    period: { start: '2025-01-01T10:00:00+00:00', end: '2025-01-01T10:30:00+00:00' },
  });
  const plan = mapHistory(
    [encounter('h', 'HH'), encounter('v', 'VR'), encounter('x', 'XYZ'), encounter('p', 'AMB', 'in-progress')],
    { now: NOW },
  );
  assert.equal(plan.encounters.length, 0);
  assert.deepEqual(
    plan.skipped.map((entry) => [entry.fhirId, entry.reason]),
    [
      ['h', 'home health encounter: HMS records only hospital visits and stays'],
      ['v', 'virtual encounter: HMS has no encounter class for telehealth'],
      ['x', 'encounter class XYZ has no HMS equivalent'],
      ['p', 'encounter status "in-progress": only finished encounters are imported'],
    ],
  );
});

test('sourceIdOf names the resource type and id', () => {
  assert.equal(sourceIdOf('Encounter', 'abc'), 'synthea:Encounter/abc');
});
