// Sends the clinical history of one imported patient (history-mapping.ts) to
// the clinical subgraph through the gateway. Every create carries a sourceId,
// and the API rejects a second record with the same sourceId with a CONFLICT
// naming the existing record, so a record imported before counts as already
// imported and its id is still known for linking.
import { GatewayClient, GatewayError } from './gateway-client.js';
import {
  NOT_A_VITAL_SIGN,
  type HistoryPlan,
  type HistoryResourceType,
  type PlannedEncounter,
  type PlannedVitals,
  type VitalSignField,
  type VitalSignsFields,
} from './history-mapping.js';

/** Count lines of the summary: the FHIR resource types, plus Conditions recorded as encounter diagnoses. */
export const DIAGNOSIS_COUNT_KEY = 'Condition (encounter diagnosis)';
export type CountKey = HistoryResourceType | typeof DIAGNOSIS_COUNT_KEY;
export const COUNT_KEYS: CountKey[] = [
  'Encounter',
  'Condition',
  DIAGNOSIS_COUNT_KEY,
  'Observation',
  'AllergyIntolerance',
  'MedicationRequest',
];

export interface ResourceCounts {
  created: number;
  alreadyImported: number;
  /** Left out on purpose or rejected by the API as invalid; `skippedReasons` counts each reason. */
  skipped: number;
  /** Not imported because of an error that another run may not repeat, such as a timeout. */
  failed: number;
  skippedReasons: Record<string, number>;
}

export function emptyCounts(): Record<CountKey, ResourceCounts> {
  return Object.fromEntries(
    COUNT_KEYS.map((key) => [
      key,
      { created: 0, alreadyImported: 0, skipped: 0, failed: 0, skippedReasons: {} },
    ]),
  ) as Record<CountKey, ResourceCounts>;
}

/** Reason of every record of a patient who was not imported. */
export const PATIENT_NOT_IMPORTED = 'patient not imported';
export const ENCOUNTER_NOT_IMPORTED = 'encounter not imported';
/** Code of the ward that imported stays are recorded in. */
export const IMPORT_WARD_CODE = 'IMPORTED';
const IMPORT_WARD_NAME = 'Imported past stays';
/** Beds the import ward starts with and adds whenever no bed is free for a stay. */
const BED_BATCH = 10;

const OPEN_ENCOUNTER = `mutation ImportOpenEncounter($input: OpenEncounterInput!) {
  openEncounter(input: $input) { id }
}`;
const RECORD_PAST_ADMISSION = `mutation ImportRecordPastAdmission($input: RecordPastAdmissionInput!) {
  recordPastAdmission(input: $input) { id }
}`;
const ADD_PROBLEM = `mutation ImportAddProblem($input: AddProblemInput!) { addProblem(input: $input) { id } }`;
const RECORD_VITAL_SIGNS = `mutation ImportRecordVitalSigns($input: RecordVitalSignsInput!) {
  recordVitalSigns(input: $input) { id }
}`;
const RECORD_ALLERGY = `mutation ImportRecordAllergy($input: RecordAllergyInput!) {
  recordAllergy(input: $input) { id }
}`;
const ISSUE_PRESCRIPTION = `mutation ImportIssuePrescription($input: IssuePrescriptionInput!) {
  issuePrescription(input: $input) { id }
}`;
const WARDS = `query ImportWards { wards { id code beds { code } } }`;
const CREATE_WARD = `mutation ImportCreateWard($input: CreateWardInput!) {
  createWard(input: $input) { id code beds { code } }
}`;
const ADD_BEDS = `mutation ImportAddBeds($wardId: ID!, $codes: [String!]!) {
  addBeds(wardId: $wardId, codes: $codes) { id code beds { code } }
}`;

type Outcome = { status: 'created' | 'existing'; id: string } | { status: 'rejected'; error: GatewayError };

/** Errors after which every further request of the run would fail the same way. */
export const FATAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

export interface HistoryImporterOptions {
  client: GatewayClient;
  counts: Record<CountKey, ResourceCounts>;
  log: (line: string) => void;
  /** Requests of one patient sent at once. */
  requestConcurrency: number;
}

interface Ward {
  id: string;
  code: string;
  beds: { code: string }[];
}

export class HistoryImporter {
  private ward: Promise<Ward> | undefined;
  private bedsAdded: Promise<void> | undefined;

  constructor(private readonly options: HistoryImporterOptions) {}

  /** Counts every planned record of a patient who was not imported as skipped. */
  skipPatient(plan: HistoryPlan, reason = PATIENT_NOT_IMPORTED): void {
    for (const encounter of plan.encounters) {
      this.skip('Encounter', reason);
      this.skip(DIAGNOSIS_COUNT_KEY, reason, plan.diagnosisCount.get(encounter.fhirId) ?? 0);
    }
    for (const _ of plan.problems) this.skip('Condition', reason);
    for (const panel of plan.vitals) this.skip('Observation', reason, observationCount(panel));
    for (const _ of plan.allergies) this.skip('AllergyIntolerance', reason);
    for (const _ of plan.prescriptions) this.skip('MedicationRequest', reason);
    this.countMappingSkips(plan, undefined);
  }

  /**
   * Imports the plan of one patient: encounters first, so that the records
   * made at an encounter can link to it, then everything else. Throws
   * GatewayError only for FATAL_CODES; every other error is counted.
   */
  async importPatient(patientId: string, label: string, plan: HistoryPlan): Promise<void> {
    this.countMappingSkips(plan, label);
    const encounterIds = new Map<string, string>();

    await this.runLimited(plan.encounters, async (encounter) => {
      const id = await this.importEncounter(patientId, label, encounter, plan);
      if (id !== undefined) encounterIds.set(encounter.fhirId, id);
    });

    const link = (encounterFhirId: string | undefined) => {
      const id = encounterFhirId === undefined ? undefined : encounterIds.get(encounterFhirId);
      return id === undefined ? {} : { encounterId: id };
    };
    const jobs: (() => Promise<void>)[] = [
      ...plan.problems.map(
        (problem) => () =>
          this.importRecord('Condition', label, problem.fhirId, ADD_PROBLEM, {
            patientId,
            ...link(problem.encounterFhirId),
            ...problem.input,
          }),
      ),
      ...plan.vitals.map(
        (panel) => () => this.importVitals(patientId, label, panel, link(panel.encounterFhirId)),
      ),
      ...plan.allergies.map(
        (allergy) => () =>
          this.importRecord('AllergyIntolerance', label, allergy.fhirId, RECORD_ALLERGY, {
            patientId,
            ...link(allergy.encounterFhirId),
            ...allergy.input,
          }),
      ),
      ...plan.prescriptions.map(
        (prescription) => () =>
          this.importRecord('MedicationRequest', label, prescription.fhirId, ISSUE_PRESCRIPTION, {
            patientId,
            ...link(prescription.encounterFhirId),
            ...prescription.input,
          }),
      ),
    ];
    await this.runLimited(jobs, (job) => job());
  }

  private countMappingSkips(plan: HistoryPlan, label: string | undefined): void {
    for (const skipped of plan.skipped) {
      this.skip(skipped.resourceType, skipped.reason);
      if (label !== undefined)
        this.options.log(`skipped: ${label} ${skipped.resourceType}/${skipped.fhirId}: ${skipped.reason}`);
    }
    this.skip('Observation', NOT_A_VITAL_SIGN, plan.notVitalSigns);
  }

  private async importEncounter(
    patientId: string,
    label: string,
    encounter: PlannedEncounter,
    plan: HistoryPlan,
  ): Promise<string | undefined> {
    const diagnoses = plan.diagnosisCount.get(encounter.fhirId) ?? 0;
    let outcome: Outcome;
    if (encounter.mutation === 'openEncounter') {
      outcome = await this.send(OPEN_ENCOUNTER, 'openEncounter', { patientId, ...encounter.input });
    } else {
      outcome = await this.recordStay(patientId, encounter);
    }
    this.count('Encounter', label, `Encounter/${encounter.fhirId}`, outcome);
    if (outcome.status === 'rejected') {
      this.skip(DIAGNOSIS_COUNT_KEY, ENCOUNTER_NOT_IMPORTED, diagnoses);
      return undefined;
    }
    // Diagnoses are created with their encounter in one request.
    const counts = this.options.counts[DIAGNOSIS_COUNT_KEY];
    if (outcome.status === 'created') counts.created += diagnoses;
    else counts.alreadyImported += diagnoses;
    return outcome.id;
  }

  /** Records a past stay in the import ward, adding beds when none is free for the whole stay. */
  private async recordStay(
    patientId: string,
    encounter: Extract<PlannedEncounter, { mutation: 'recordPastAdmission' }>,
  ): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      let ward: Ward;
      try {
        ward = await this.importWard();
      } catch (error) {
        return rejected(error);
      }
      const outcome = await this.send(RECORD_PAST_ADMISSION, 'recordPastAdmission', {
        patientId,
        wardId: ward.id,
        ...encounter.input,
      });
      if (outcome.status !== 'rejected' || !isNoFreeBed(outcome.error) || attempt >= 5) return outcome;
      try {
        await this.addBeds(ward);
      } catch (error) {
        return rejected(error);
      }
    }
  }

  private async importVitals(
    patientId: string,
    label: string,
    panel: PlannedVitals,
    link: { encounterId?: string },
  ): Promise<void> {
    const input: VitalSignsFields = { ...panel.input };
    const observationIds = { ...panel.observationIds };
    // A value the API rejects as implausible is dropped with the server's
    // reason and the rest of the panel is sent again.
    for (;;) {
      const outcome = await this.send(RECORD_VITAL_SIGNS, 'recordVitalSigns', {
        patientId,
        ...link,
        ...input,
      });
      const ids = Object.values(observationIds).flat();
      if (outcome.status !== 'rejected') {
        const counts = this.options.counts.Observation;
        if (outcome.status === 'created') counts.created += ids.length;
        else counts.alreadyImported += ids.length;
        return;
      }
      const rejected = rejectedVitalFields(outcome.error).filter((field) => field in observationIds);
      if (rejected.length === 0 || rejected.length === Object.keys(observationIds).length) {
        for (const id of ids) this.count('Observation', label, `Observation/${id}`, outcome);
        return;
      }
      for (const field of rejected) {
        for (const id of observationIds[field] ?? [])
          this.count('Observation', label, `Observation/${id}`, outcome);
        delete observationIds[field];
        delete input[field];
      }
    }
  }

  private async importRecord(
    key: CountKey,
    label: string,
    fhirId: string,
    mutation: string,
    input: Record<string, unknown>,
  ): Promise<void> {
    const field = /\{\s*(\w+)\(/.exec(mutation)?.[1] ?? '';
    const outcome = await this.send(mutation, field, input);
    this.count(key, label, `${key}/${fhirId}`, outcome);
  }

  /**
   * Sends one create. A CONFLICT naming an existing record is that record
   * imported before; FATAL_CODES are thrown, every other error returned.
   */
  private async send(mutation: string, field: string, input: Record<string, unknown>): Promise<Outcome> {
    try {
      const data = await this.options.client.request<Record<string, { id: string }>>(mutation, { input });
      const id = data[field]?.id;
      if (id === undefined) throw new GatewayError(`${field} returned no id`, 'INVALID_RESPONSE');
      return { status: 'created', id };
    } catch (error) {
      const outcome = rejected(error);
      const existingId = outcome.status === 'rejected' ? outcome.error.extensions?.existingId : undefined;
      if (
        outcome.status === 'rejected' &&
        outcome.error.code === 'CONFLICT' &&
        typeof existingId === 'string'
      ) {
        return { status: 'existing', id: existingId };
      }
      return outcome;
    }
  }

  private count(key: CountKey, label: string, reference: string, outcome: Outcome): void {
    const counts = this.options.counts[key];
    if (outcome.status !== 'rejected') {
      if (outcome.status === 'created') counts.created++;
      else counts.alreadyImported++;
    } else if (isRejection(outcome.error)) {
      this.skip(key, rejectionReason(outcome.error));
      this.options.log(`skipped: ${label} ${reference}: ${describe(outcome.error)}`);
    } else {
      counts.failed++;
      this.options.log(`failed: ${label} ${reference}: ${describe(outcome.error)}`);
    }
  }

  private skip(key: CountKey, reason: string, times = 1): void {
    if (times <= 0) return;
    const counts = this.options.counts[key];
    counts.skipped += times;
    counts.skippedReasons[reason] = (counts.skippedReasons[reason] ?? 0) + times;
  }

  /** Finds the import ward, or creates it; shared by every patient of the run. */
  private importWard(): Promise<Ward> {
    this.ward ??= this.findOrCreateWard().catch((error: unknown) => {
      this.ward = undefined;
      throw error;
    });
    return this.ward;
  }

  private async findOrCreateWard(): Promise<Ward> {
    const find = async () =>
      (await this.options.client.request<{ wards: Ward[] }>(WARDS, {})).wards.find(
        (ward) => ward.code === IMPORT_WARD_CODE,
      );
    const existing = await find();
    if (existing) return existing;
    try {
      const created = await this.options.client.request<{ createWard: Ward }>(CREATE_WARD, {
        input: { code: IMPORT_WARD_CODE, name: IMPORT_WARD_NAME, bedCodes: bedCodes(0, BED_BATCH) },
      });
      this.options.log(`created ward ${IMPORT_WARD_CODE} with ${BED_BATCH} beds for imported stays`);
      return created.createWard;
    } catch (error) {
      // Another run created it meanwhile.
      if (error instanceof GatewayError && error.code === 'CONFLICT') {
        const found = await find();
        if (found) return found;
      }
      throw error;
    }
  }

  /** Adds BED_BATCH beds to the import ward; concurrent callers share one addition. */
  private async addBeds(seen: Ward): Promise<void> {
    if (this.bedsAdded) return this.bedsAdded;
    const current = await this.importWard();
    if (current !== seen) return;
    this.bedsAdded = (async () => {
      const codes = bedCodes(current.beds.length, BED_BATCH);
      const data = await this.options.client.request<{ addBeds: Ward }>(ADD_BEDS, {
        wardId: current.id,
        codes,
      });
      this.ward = Promise.resolve(data.addBeds);
      this.options.log(
        `no bed free for an imported stay; ward ${IMPORT_WARD_CODE} now has ${data.addBeds.beds.length} beds`,
      );
    })();
    try {
      await this.bedsAdded;
    } finally {
      this.bedsAdded = undefined;
    }
  }

  /** Runs `task` over the items with at most `requestConcurrency` at once. */
  private async runLimited<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await task(item);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.requestConcurrency, items.length) }, worker),
    );
  }
}

export function bedCodes(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `IMP-${String(from + index + 1).padStart(3, '0')}`);
}

/** Returns a non-fatal GatewayError as a rejected outcome and throws everything else. */
function rejected(error: unknown): Outcome {
  if (!(error instanceof GatewayError) || FATAL_CODES.has(error.code)) throw error;
  return { status: 'rejected', error };
}

function observationCount(panel: PlannedVitals): number {
  return Object.values(panel.observationIds).flat().length;
}

/** Whether the API rejected the record itself, so that sending it again would fail the same way. */
function isRejection(error: GatewayError): boolean {
  return error.code === 'BAD_USER_INPUT' || error.code === 'CONFLICT' || error.code === 'NOT_FOUND';
}

// NOTE: the clinical subgraph reports a ward without a bed free over a past
// stay as a CONFLICT whose message names the bed; this test follows that text.
function isNoFreeBed(error: GatewayError): boolean {
  return error.code === 'CONFLICT' && /\bbed\b/i.test(error.message);
}

/** The `{ field, message }` entries of a BAD_USER_INPUT error, as the service kit's InputErrors sends them. */
function fieldErrors(error: GatewayError): { field: string; message: string }[] {
  if (!Array.isArray(error.fields)) return [];
  return error.fields.map((entry: unknown) => ({
    field: String((entry as { field?: unknown }).field ?? ''),
    message: String((entry as { message?: unknown }).message ?? ''),
  }));
}

/** The vital sign fields a BAD_USER_INPUT error names, such as `heartRate` for `heartRate.value`. */
function rejectedVitalFields(error: GatewayError): VitalSignField[] {
  if (error.code !== 'BAD_USER_INPUT') return [];
  return fieldErrors(error)
    .map(({ field }) => field.replace(/^input\./, '').split('.')[0] ?? '')
    .filter((name): name is VitalSignField => VITAL_SIGN_FIELDS.has(name));
}

const VITAL_SIGN_FIELDS = new Set<string>([
  'bodyTemperature',
  'heartRate',
  'respiratoryRate',
  'bloodPressure',
  'oxygenSaturation',
  'bodyHeight',
  'bodyWeight',
  'headCircumference',
]);

/**
 * Groups a rejection by its code, fields and messages, with numbers and ids
 * replaced, so that the values inside the server's messages do not give each
 * rejected record a summary line of its own.
 */
function rejectionReason(error: GatewayError): string {
  const fields = fieldErrors(error);
  const detail =
    fields.length > 0 ? fields.map(({ field, message }) => `${field}: ${message}`).join('; ') : error.message;
  const grouped = detail
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'ID')
    .replace(/\d+(\.\d+)?/g, 'N');
  return `rejected by the API: ${error.code}: ${grouped}`;
}

function describe(error: GatewayError): string {
  const fields = error.fields === undefined ? '' : ` (fields: ${JSON.stringify(error.fields)})`;
  return `${error.code}: ${error.message}${fields}`;
}
