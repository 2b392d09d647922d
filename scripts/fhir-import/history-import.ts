// Sends the clinical history of one imported patient (history-mapping.ts) to
// the clinical subgraph through the gateway. Every create carries a sourceId,
// and the API rejects a second record with the same sourceId with a CONFLICT
// naming the existing record, so a record imported before counts as already
// imported and its id is still known for linking.
import { GatewayClient, GatewayError, type PartialResult } from './gateway-client.js';
import type { PractitionerDirectory } from './practitioners.js';
import { isReplicaLag, retryWhileReplicaLags } from './replica-wait.js';
import {
  NOT_A_VITAL_SIGN,
  type HistoryPlan,
  type PlannedEncounter,
  type HistoryResourceType,
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

/** The creating mutations the importer sends, with the type of their `input` argument. */
const INPUT_TYPES = {
  openEncounter: 'OpenEncounterInput',
  recordPastAdmission: 'RecordPastAdmissionInput',
  addProblem: 'AddProblemInput',
  recordVitalSigns: 'RecordVitalSignsInput',
  recordAllergy: 'RecordAllergyInput',
  issuePrescription: 'IssuePrescriptionInput',
} as const;
export type CreateMutation = keyof typeof INPUT_TYPES;

/** Builds one operation that sends each create under the alias `r<index>`, with the input `$i<index>`. */
export function batchOperation(mutations: CreateMutation[]): string {
  const variables = mutations.map((mutation, index) => `$i${index}: ${INPUT_TYPES[mutation]}!`).join(', ');
  const fields = mutations.map((mutation, index) => `r${index}: ${mutation}(input: $i${index}) { id }`);
  return `mutation ImportBatch(${variables}) { ${fields.join(' ')} }`;
}

const IMPORTED_RECORDS = `query ImportImportedRecords($id: ID!, $after: String) {
  patient(id: $id) {
    encounters(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id sourceId } } }
    problems { sourceId }
    allergies(includeEnteredInError: true) { sourceId }
    prescriptions { sourceId }
  }
}`;
const MORE_ENCOUNTERS = `query ImportImportedEncounters($id: ID!, $after: String) {
  patient(id: $id) {
    encounters(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id sourceId } } }
  }
}`;
const VITAL_SIGN_PANELS = `query ImportImportedVitalSigns($id: ID!, $after: String) {
  patient(id: $id) {
    vitalSigns(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { panelId } } }
  }
}`;

interface Page<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: T }[];
}

/** The sourceIds of a patient's records that an earlier run imported, with the ids of the encounters. */
interface ImportedRecords {
  encounters: Map<string, string>;
  sourceIds: Set<string>;
}

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
  /**
   * Creates sent in one request. The gateway rejects operations with more
   * aliases than HMS_GATEWAY_MAX_ALIASES (15 by default), and counts each
   * request, not each mutation, against the per-user rate limit.
   */
  batchSize: number;
  /**
   * Finds or creates the practitioner each encounter's source credits, who becomes its attending.
   * Without it, the importing user is the attending of every encounter.
   */
  practitioners?: PractitionerDirectory;
  /** How long to wait for clinical to learn of a practitioner identity just created, in milliseconds. */
  replicaWaitMs?: number;
}

/** One create to send, and what to do with its outcome. */
interface CreateJob {
  mutation: CreateMutation;
  input: Record<string, unknown>;
  /** Counts the outcome; may send further requests, such as a panel without a rejected value. */
  settle(outcome: Outcome): Promise<void>;
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
    this.skip('Condition', reason, plan.problems.length);
    for (const panel of plan.vitals) this.skip('Observation', reason, observationCount(panel));
    this.skip('AllergyIntolerance', reason, plan.allergies.length);
    this.skip('MedicationRequest', reason, plan.prescriptions.length);
    this.countMappingSkips(plan, undefined);
  }

  /**
   * Imports the plan of one patient: encounters first, so that the records
   * made at an encounter can link to it, then everything else. Throws
   * GatewayError only for FATAL_CODES, and counts every other error.
   */
  async importPatient(
    patientId: string,
    label: string,
    plan: HistoryPlan,
    options: { registeredBefore: boolean },
  ): Promise<void> {
    this.countMappingSkips(plan, label);

    // A patient registered by an earlier run may have records already. They
    // are looked up first, because sending them again would cost a request
    // each: a CONFLICT stops the rest of its batch.
    const imported = options.registeredBefore ? await this.findImported(patientId) : undefined;

    // Every stay goes to the import ward, which is looked up once per run.
    let ward: Ward | Outcome | undefined;
    if (plan.encounters.some((encounter) => encounter.mutation === 'recordPastAdmission')) {
      ward = await this.importWard().catch(rejected);
    }
    const encounterIds = new Map<string, string>();
    const encounterJobs: CreateJob[] = [];
    for (const encounter of plan.encounters) {
      const diagnoses = plan.diagnosisCount.get(encounter.fhirId) ?? 0;
      const settle = async (outcome: Outcome) => {
        this.count('Encounter', label, `Encounter/${encounter.fhirId}`, outcome);
        if (outcome.status === 'rejected') {
          this.skip(DIAGNOSIS_COUNT_KEY, ENCOUNTER_NOT_IMPORTED, diagnoses);
          return;
        }
        encounterIds.set(encounter.fhirId, outcome.id);
        // Diagnoses are created with their encounter in one request.
        const counts = this.options.counts[DIAGNOSIS_COUNT_KEY];
        if (outcome.status === 'created') counts.created += diagnoses;
        else counts.alreadyImported += diagnoses;
      };
      const attending = await this.attendingOf(encounter);
      if ('status' in attending) {
        await settle(attending);
      } else if (encounter.mutation === 'openEncounter') {
        encounterJobs.push(
          this.attendingJob({
            mutation: 'openEncounter',
            input: { patientId, ...attending, ...encounter.input },
            settle,
          }),
        );
      } else if (ward !== undefined && 'status' in ward) {
        await settle(ward);
      } else if (ward !== undefined) {
        encounterJobs.push(
          this.attendingJob(
            this.stayJob({ patientId, wardId: ward.id, ...attending, ...encounter.input }, settle),
          ),
        );
      }
    }
    await this.sendAll(encounterJobs, imported);

    const link = (encounterFhirId: string | undefined) => {
      const id = encounterFhirId === undefined ? undefined : encounterIds.get(encounterFhirId);
      return id === undefined ? {} : { encounterId: id };
    };
    const countAs = (key: CountKey, fhirId: string) => async (outcome: Outcome) =>
      this.count(key, label, `${key}/${fhirId}`, outcome);
    await this.sendAll(
      [
        ...plan.problems.map((problem) => ({
          mutation: 'addProblem' as const,
          input: { patientId, ...link(problem.encounterFhirId), ...problem.input },
          settle: countAs('Condition', problem.fhirId),
        })),
        ...plan.vitals.map((panel) => this.vitalsJob(patientId, label, panel, link(panel.encounterFhirId))),
        ...plan.allergies.map((allergy) => ({
          mutation: 'recordAllergy' as const,
          input: { patientId, ...link(allergy.encounterFhirId), ...allergy.input },
          settle: countAs('AllergyIntolerance', allergy.fhirId),
        })),
        ...plan.prescriptions.map((prescription) => ({
          mutation: 'issuePrescription' as const,
          input: { patientId, ...link(prescription.encounterFhirId), ...prescription.input },
          settle: countAs('MedicationRequest', prescription.fhirId),
        })),
      ],
      imported,
    );
  }

  /**
   * Returns the attendingId of an encounter's practitioner, or no field when the source credits none
   * or no directory is configured. A lookup that fails is the encounter's outcome.
   */
  private async attendingOf(encounter: PlannedEncounter): Promise<{ attendingId?: string } | Outcome> {
    const directory = this.options.practitioners;
    if (!directory || !encounter.practitioner) return {};
    try {
      return { attendingId: await directory.idOf(encounter.practitioner) };
    } catch (error) {
      return rejected(error);
    }
  }

  /**
   * Wraps an encounter job so that a rejection of a practitioner clinical has not yet copied from
   * identity's events is sent again until clinical has it. The practitioner was found or created just
   * before, so the rejection is a delay, not invalid input.
   *
   * NOTE: clinical rejects a practitioner deactivated in identity with the same message, so such an
   * encounter is counted as skipped only after replicaWaitMs (60 s by default).
   */
  private attendingJob(job: CreateJob): CreateJob {
    if (job.input.attendingId === undefined) return job;
    const isLag = (outcome: Outcome) =>
      outcome.status === 'rejected' && isReplicaLag(outcome.error, ['input.attendingId']);
    return {
      ...job,
      settle: async (first) => {
        let outcome = first;
        if (isLag(outcome)) {
          this.options.log(`waiting for clinical to learn of the attending of ${String(job.input.sourceId)}`);
          outcome = await retryWhileReplicaLags(
            async () => {
              const again = await this.sendOne(job);
              if (again.status === 'rejected' && isLag(again)) throw again.error;
              return again;
            },
            (error) => isReplicaLag(error, ['input.attendingId']),
            { waitMs: this.options.replicaWaitMs },
          ).catch(rejected);
        }
        await job.settle(outcome);
      },
    };
  }

  private countMappingSkips(plan: HistoryPlan, label: string | undefined): void {
    for (const skipped of plan.skipped) {
      this.skip(skipped.resourceType, skipped.reason);
      if (label !== undefined)
        this.options.log(`skipped: ${label} ${skipped.resourceType}/${skipped.fhirId}: ${skipped.reason}`);
    }
    this.skip('Observation', NOT_A_VITAL_SIGN, plan.notVitalSigns);
  }

  /**
   * Builds the job of a past stay. When no bed of the import ward is free
   * over the whole stay, it adds beds and sends the stay again, and when a
   * concurrent stay took the bed it picked, it sends the stay again as it is.
   */
  private stayJob(input: Record<string, unknown>, settle: (outcome: Outcome) => Promise<void>): CreateJob {
    const job: CreateJob = {
      mutation: 'recordPastAdmission',
      input,
      settle: async (first) => {
        let outcome = first;
        for (let attempt = 0; outcome.status === 'rejected' && attempt < 5; attempt++) {
          const reason = bedConflictReason(outcome.error);
          if (reason === undefined) break;
          if (reason === 'NO_FREE_BED') {
            try {
              await this.addBeds(await this.importWard());
            } catch (error) {
              outcome = rejected(error);
              break;
            }
          }
          outcome = await this.sendOne(job);
        }
        await settle(outcome);
      },
    };
    return job;
  }

  /**
   * A vital signs panel. A value the API rejects as implausible is dropped
   * with the server's reason, and the rest of the panel is sent again.
   */
  private vitalsJob(
    patientId: string,
    label: string,
    panel: PlannedVitals,
    link: { encounterId?: string },
  ): CreateJob {
    const input: Record<string, unknown> & Partial<VitalSignsFields> = { patientId, ...link, ...panel.input };
    const observationIds = { ...panel.observationIds };
    const job: CreateJob = {
      mutation: 'recordVitalSigns',
      input,
      settle: async (first) => {
        for (let outcome = first; ; outcome = await this.sendOne(job)) {
          const ids = Object.values(observationIds).flat();
          if (outcome.status !== 'rejected') {
            const counts = this.options.counts.Observation;
            if (outcome.status === 'created') counts.created += ids.length;
            else counts.alreadyImported += ids.length;
            return;
          }
          const fields = rejectedVitalFields(outcome.error).filter((field) => field in observationIds);
          if (fields.length === 0 || fields.length === Object.keys(observationIds).length) {
            for (const id of ids) this.count('Observation', label, `Observation/${id}`, outcome);
            return;
          }
          for (const field of fields) {
            for (const id of observationIds[field] ?? [])
              this.count('Observation', label, `Observation/${id}`, outcome);
            delete observationIds[field];
            delete input[field];
          }
        }
      },
    };
    return job;
  }

  /**
   * Settles the jobs that an earlier run imported, and sends the others in
   * batches of `batchSize`, at most `requestConcurrency` batches at once.
   */
  private async sendAll(all: CreateJob[], imported: ImportedRecords | undefined): Promise<void> {
    const jobs: CreateJob[] = [];
    for (const job of all) {
      const sourceId = String(job.input.sourceId);
      const encounterId = imported?.encounters.get(sourceId);
      if (encounterId !== undefined) {
        await job.settle({ status: 'existing', id: encounterId });
      } else if (imported?.sourceIds.has(sourceId)) {
        // NOTE: a panel imported before counts all its Observations as already
        // imported, including a value the API rejected in that earlier run.
        await job.settle({ status: 'existing', id: '' });
      } else {
        jobs.push(job);
      }
    }
    const batches: CreateJob[][] = [];
    for (let index = 0; index < jobs.length; index += this.options.batchSize) {
      batches.push(jobs.slice(index, index + this.options.batchSize));
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++] as CreateJob[];
        await this.sendBatch(batch);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.requestConcurrency, batches.length) }, worker),
    );
  }

  /**
   * Sends a batch as one operation and settles each job with its own
   * outcome. A job whose field failed with a retryable error is sent again
   * alone, with the client's retries. When the whole request fails, each job
   * is sent alone, and a create that the failed request did apply then comes
   * back as already imported.
   */
  private async sendBatch(jobs: CreateJob[]): Promise<void> {
    if (jobs.length === 1) {
      const job = jobs[0] as CreateJob;
      return job.settle(await this.sendOne(job));
    }
    const variables = Object.fromEntries(jobs.map((job, index) => [`i${index}`, job.input]));
    let result: PartialResult<Record<string, { id: string } | null>>;
    try {
      result = await this.options.client.requestPartial(
        batchOperation(jobs.map((job) => job.mutation)),
        variables,
      );
    } catch (error) {
      if (error instanceof GatewayError && FATAL_CODES.has(error.code)) throw error;
      if (!(error instanceof GatewayError)) throw error;
      this.options.log(
        `batch of ${jobs.length} creates failed (${describe(error)}); sending them one by one`,
      );
      for (const job of jobs) await job.settle(await this.sendOne(job));
      return;
    }

    const errorsByAlias = new Map<string, GatewayError>();
    for (const error of result.errors) {
      const alias = String(error.path?.[0]);
      if (errorsByAlias.has(alias)) continue;
      const code = error.extensions?.code ?? 'GRAPHQL_ERROR';
      errorsByAlias.set(
        alias,
        new GatewayError(error.message, code, error.extensions?.fields, error.extensions),
      );
    }
    // Root mutation fields run one after another. An error of one nulls the
    // whole response and stops the fields after it, so those are sent again
    // as a batch of their own, while the fields before it were applied.
    const failedIndexes = [...errorsByAlias.keys()].map((alias) => Number(alias.slice(1)));
    const firstFailed = result.data === null ? Math.min(...failedIndexes) : Number.POSITIVE_INFINITY;
    const notRun: CreateJob[] = [];
    for (const [index, job] of jobs.entries()) {
      const error = errorsByAlias.get(`r${index}`);
      if (error !== undefined) {
        await job.settle(isRetryableField(error) ? await this.sendOne(job) : classify(error));
        continue;
      }
      const id = result.data?.[`r${index}`]?.id;
      if (id !== undefined) {
        await job.settle({ status: 'created', id });
      } else if (index < firstFailed) {
        // Applied, but the error nulled its id: sending it again returns the id in a CONFLICT.
        const again = await this.sendOne(job);
        await job.settle(again.status === 'existing' ? { status: 'created', id: again.id } : again);
      } else {
        notRun.push(job);
      }
    }
    if (notRun.length > 0) await this.sendBatch(notRun);
  }

  /** Reads the sourceIds of the patient's records and the ids of its encounters. */
  private async findImported(patientId: string): Promise<ImportedRecords> {
    type Records = {
      encounters: Page<{ id: string; sourceId: string | null }>;
      problems: { sourceId: string | null }[];
      allergies: { sourceId: string | null }[];
      prescriptions: { sourceId: string | null }[];
    };
    const client = this.options.client;
    const imported: ImportedRecords = { encounters: new Map(), sourceIds: new Set() };
    const first = await client.request<{ patient: Records | null }>(IMPORTED_RECORDS, { id: patientId });
    if (!first.patient) return imported;
    for (const record of [
      ...first.patient.problems,
      ...first.patient.allergies,
      ...first.patient.prescriptions,
    ]) {
      if (record.sourceId) imported.sourceIds.add(record.sourceId);
    }

    let encounters: Page<{ id: string; sourceId: string | null }> | undefined = first.patient.encounters;
    while (encounters) {
      for (const { node } of encounters.edges)
        if (node.sourceId) imported.encounters.set(node.sourceId, node.id);
      if (!encounters.pageInfo.hasNextPage) break;
      const next: { patient: { encounters: Page<{ id: string; sourceId: string | null }> } | null } =
        await client.request(MORE_ENCOUNTERS, { id: patientId, after: encounters.pageInfo.endCursor });
      encounters = next.patient?.encounters;
    }

    // A panel's sourceId is read from the panel, whose id each measurement names.
    const panelIds = new Set<string>();
    for (let after: string | null = null; ;) {
      const page: { patient: { vitalSigns: Page<{ panelId: string }> } | null } = await client.request(
        VITAL_SIGN_PANELS,
        { id: patientId, after },
      );
      const vitalSigns = page.patient?.vitalSigns;
      for (const { node } of vitalSigns?.edges ?? []) panelIds.add(node.panelId);
      if (!vitalSigns?.pageInfo.hasNextPage) break;
      after = vitalSigns.pageInfo.endCursor;
    }
    const ids = [...panelIds];
    for (let index = 0; index < ids.length; index += this.options.batchSize) {
      const batch = ids.slice(index, index + this.options.batchSize);
      const variables = batch.map((_, position) => `$p${position}: ID!`).join(', ');
      const fields = batch.map(
        (_, position) => `p${position}: vitalSignsPanel(id: $p${position}) { sourceId }`,
      );
      const data = await client.request<Record<string, { sourceId: string | null } | null>>(
        `query ImportImportedPanels(${variables}) { ${fields.join(' ')} }`,
        Object.fromEntries(batch.map((id, position) => [`p${position}`, id])),
      );
      for (const panel of Object.values(data)) if (panel?.sourceId) imported.sourceIds.add(panel.sourceId);
    }
    return imported;
  }

  /** Sends one create with the client's retries; FATAL_CODES are thrown, every other error returned. */
  private async sendOne(job: CreateJob): Promise<Outcome> {
    const document = `mutation ImportCreate($input: ${INPUT_TYPES[job.mutation]}!) { ${job.mutation}(input: $input) { id } }`;
    try {
      const data = await this.options.client.request<Record<string, { id: string }>>(document, {
        input: job.input,
      });
      const id = data[job.mutation]?.id;
      if (id === undefined) throw new GatewayError(`${job.mutation} returned no id`, 'INVALID_RESPONSE');
      return { status: 'created', id };
    } catch (error) {
      return rejected(error);
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

  /** Finds the import ward, or creates it. One lookup serves every patient of the run. */
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
}

export function bedCodes(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `IMP-${String(from + index + 1).padStart(3, '0')}`);
}

/**
 * Returns a non-fatal GatewayError as an outcome, a CONFLICT naming an
 * existing record as that record, and throws everything else.
 */
function rejected(error: unknown): Outcome {
  if (!(error instanceof GatewayError) || FATAL_CODES.has(error.code)) throw error;
  return classify(error);
}

function classify(error: GatewayError): Outcome {
  if (FATAL_CODES.has(error.code)) throw error;
  const existingId = error.extensions?.existingId;
  if (error.code === 'CONFLICT' && typeof existingId === 'string')
    return { status: 'existing', id: existingId };
  return { status: 'rejected', error };
}

// Field errors that another attempt may not repeat, as the client retries them for single requests.
function isRetryableField(error: GatewayError): boolean {
  return error.code === 'INTERNAL_SERVER_ERROR' || error.code === 'RATE_LIMITED';
}

function observationCount(panel: PlannedVitals): number {
  return Object.values(panel.observationIds).flat().length;
}

/** Tells whether the API rejected the record itself, so that sending it again would fail the same way. */
function isRejection(error: GatewayError): boolean {
  return error.code === 'BAD_USER_INPUT' || error.code === 'CONFLICT' || error.code === 'NOT_FOUND';
}

/**
 * Returns `extensions.reason` of the CONFLICTs of recordPastAdmission about
 * beds: NO_FREE_BED when no bed of the ward is free over the whole stay, and
 * BED_OCCUPIED when a concurrent stay took the bed first.
 */
function bedConflictReason(error: GatewayError): 'NO_FREE_BED' | 'BED_OCCUPIED' | undefined {
  const reason = error.extensions?.reason;
  if (error.code !== 'CONFLICT') return undefined;
  return reason === 'NO_FREE_BED' || reason === 'BED_OCCUPIED' ? reason : undefined;
}

/** Returns the `{ field, message }` entries of a BAD_USER_INPUT error, as the service kit's InputErrors sends them. */
function fieldErrors(error: GatewayError): { field: string; message: string }[] {
  if (!Array.isArray(error.fields)) return [];
  return error.fields.map((entry: unknown) => ({
    field: String((entry as { field?: unknown }).field ?? ''),
    message: String((entry as { message?: unknown }).message ?? ''),
  }));
}

/** Returns the vital sign fields a BAD_USER_INPUT error names, such as `heartRate` for `input.heartRate.value`. */
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
