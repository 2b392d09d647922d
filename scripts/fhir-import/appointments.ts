// Imports Synthea's finished ambulatory encounters as past, completed appointments through the
// gateway. Each encounter's practitioner becomes an identity user with the doctor role unless one
// exists already (found by an email derived from the NPI), and each appointment is idempotent by
// its source id `synthea:Encounter/<uuid>`, so a second run creates nothing.
import { readFile } from 'node:fs/promises';
import { errorMessage, listBundleFiles } from './bundles.js';
import { GatewayClient, GatewayError } from './gateway-client.js';
import { patientFhirId, SYNTHEA_IDENTIFIER_SYSTEM, type FhirPatient } from './mapping.js';
import {
  NPI_SYSTEM,
  npiOf,
  PRACTITIONER_EMAIL_DOMAIN,
  PractitionerDirectory,
  practitionerEmail,
  practitionerName,
} from './practitioners.js';
import { DEFAULT_REPLICA_WAIT_MS, retryLaggingItems } from './replica-wait.js';

export { NPI_SYSTEM, PRACTITIONER_EMAIL_DOMAIN, npiOf, practitionerEmail, practitionerName };

export interface AppointmentImportOptions {
  gatewayUrl: string;
  tenantSlug: string;
  /** A user with user:read, user:manage, patient:read and schedule:manage, such as a tenant_admin. */
  email: string;
  password: string;
  paths: string[];
  /** Batch requests sent at once; 2 by default. */
  concurrency?: number;
  /** Encounters per importPastAppointments request, at most 100 (the mutation's limit); 100 by default. */
  batchSize?: number;
  now?: Date;
  /**
   * How long to wait for scheduling to learn of a patient or practitioner that was just created:
   * scheduling copies them from Kafka events, usually within a second. 60 s by default.
   */
  replicaWaitMs?: number;
  retryBaseDelayMs?: number;
  log?: (line: string) => void;
}

export interface AppointmentImportSummary {
  /** Finished ambulatory encounters found in the bundles. */
  read: number;
  created: number;
  /** Imported by an earlier run. */
  existing: number;
  practitionersCreated: number;
  skipped: number;
  skippedReasons: Record<string, number>;
  failed: number;
  failures: { encounterId: string; reason: string }[];
}

interface FhirEncounter {
  resourceType: 'Encounter';
  id: string;
  status?: string;
  class?: { code?: string };
  period?: { start?: string; end?: string };
  participant?: { individual?: { reference?: string; display?: string } }[];
  location?: { location?: { display?: string } }[];
}

/** An encounter to import, with the Synthea id of its patient. */
export interface EncounterRecord {
  encounterId: string;
  patientFhirId: string;
  npi: string;
  practitionerName: string;
  startsAt: string;
  endsAt: string;
  location: string | undefined;
}

const FIND_PATIENT = `query ImportFindPatient($system: String!, $value: String!) {
  patientByIdentifier(system: $system, value: $value) { id }
}`;
const IMPORT_BATCH = `mutation ImportPastAppointments($inputs: [ImportPastAppointmentInput!]!) {
  importPastAppointments(inputs: $inputs) { created appointment { id } errors { code message } }
}`;

/** Maximum number of encounters in one importPastAppointments request, the mutation's limit. */
export const MAX_BATCH_SIZE = 100;

/** The result of one item of importPastAppointments. */
export interface ImportItemResult {
  created: boolean;
  appointment: { id: string } | null;
  errors: { code: string; message: string }[];
}

/** Tells whether scheduling rejected an item only because it has no copy of its patient or practitioner yet. */
export function isParticipantLag(result: ImportItemResult): boolean {
  return result.errors.length > 0 && result.errors.every((error) => error.code === 'UNKNOWN_PARTICIPANT');
}

interface PendingImport {
  encounterId: string;
  input: {
    sourceId: string;
    practitionerId: string;
    patientId: string;
    startsAt: string;
    endsAt: string;
    location: string | undefined;
  };
}

/** Errors that no retry fixes: they stop the whole import. */
const FATAL_CODES = ['FORBIDDEN', 'UNAUTHENTICATED', 'TENANT_SUSPENDED'];

const isFatal = (error: unknown) => error instanceof GatewayError && FATAL_CODES.includes(error.code);

/**
 * Reads the finished ambulatory (class AMB) encounters of one bundle, or the reason each cannot be
 * imported. Encounters of other classes (inpatient, emergency) are not appointments.
 */
export function encountersOf(bundle: unknown): { records: EncounterRecord[]; skipped: string[] } {
  const entries = (bundle as { entry?: { resource?: unknown }[] }).entry ?? [];
  const resources = entries.map((entry) => entry.resource).filter((resource) => typeof resource === 'object');
  const patient = resources.find(
    (resource) => (resource as { resourceType?: string }).resourceType === 'Patient',
  ) as FhirPatient | undefined;
  const patientId = patient ? patientFhirId(patient) : undefined;
  const records: EncounterRecord[] = [];
  const skipped: string[] = [];

  for (const resource of resources as FhirEncounter[]) {
    if (resource.resourceType !== 'Encounter' || resource.class?.code !== 'AMB') continue;
    if (resource.status !== 'finished') {
      skipped.push('not finished');
      continue;
    }
    const individual = resource.participant?.find((participant) =>
      npiOf(participant.individual?.reference),
    )?.individual;
    const npi = npiOf(individual?.reference);
    if (!patientId) skipped.push('bundle without a patient');
    else if (!npi) skipped.push('no practitioner with an NPI');
    else if (!resource.period?.start || !resource.period.end) skipped.push('no period');
    else {
      records.push({
        encounterId: resource.id,
        patientFhirId: patientId,
        npi,
        practitionerName: individual?.display ?? `NPI ${npi}`,
        startsAt: resource.period.start,
        endsAt: resource.period.end,
        location: resource.location?.[0]?.location?.display?.slice(0, 200),
      });
    }
  }
  return { records, skipped };
}

/**
 * Imports the encounters of every bundle under `paths`. Patients must have been imported first
 * (scripts/fhir-import/main.ts); encounters of patients clinical does not know are skipped.
 */
export async function importAppointments(
  options: AppointmentImportOptions,
): Promise<AppointmentImportSummary> {
  const now = options.now ?? new Date();
  const log = options.log ?? (() => undefined);
  const replicaWaitMs = options.replicaWaitMs ?? DEFAULT_REPLICA_WAIT_MS;
  const batchSize = Math.min(MAX_BATCH_SIZE, Math.max(1, options.batchSize ?? MAX_BATCH_SIZE));
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const client = new GatewayClient({
    url: options.gatewayUrl,
    credentials: { tenantSlug: options.tenantSlug, email: options.email, password: options.password },
    retryBaseDelayMs: options.retryBaseDelayMs,
    log,
  });
  const summary: AppointmentImportSummary = {
    read: 0,
    created: 0,
    existing: 0,
    practitionersCreated: 0,
    skipped: 0,
    skippedReasons: {},
    failed: 0,
    failures: [],
  };
  const skip = (reason: string) => {
    summary.skipped++;
    summary.skippedReasons[reason] = (summary.skippedReasons[reason] ?? 0) + 1;
  };
  const fail = (encounterId: string, reason: string) => {
    summary.failed++;
    summary.failures.push({ encounterId, reason });
  };
  const patients = new Map<string, string | null>();
  await client.login();

  const practitioners = new PractitionerDirectory(client);
  const patientIdOf = async (fhirId: string): Promise<string | null> => {
    if (!patients.has(fhirId)) {
      const data = await client.request<{ patientByIdentifier: { id: string } | null }>(FIND_PATIENT, {
        system: SYNTHEA_IDENTIFIER_SYSTEM,
        value: fhirId,
      });
      patients.set(fhirId, data.patientByIdentifier?.id ?? null);
    }
    return patients.get(fhirId)!;
  };

  /** Resolves an encounter's patient and practitioner, or counts why it is not imported. */
  const prepare = async (record: EncounterRecord): Promise<PendingImport | undefined> => {
    if (Date.parse(record.endsAt) > now.getTime()) return void skip('ends in the future');
    if (Date.parse(record.endsAt) - Date.parse(record.startsAt) > 24 * 3_600_000)
      return void skip('longer than a day');
    const patientId = await patientIdOf(record.patientFhirId);
    if (!patientId) return void skip('patient not imported');
    const practitionerId = await practitioners.idOf({ npi: record.npi, name: record.practitionerName });
    return {
      encounterId: record.encounterId,
      input: {
        sourceId: `synthea:Encounter/${record.encounterId}`,
        practitionerId,
        patientId,
        startsAt: record.startsAt,
        endsAt: record.endsAt,
        location: record.location,
      },
    };
  };

  // Scheduling copies new patients and users from Kafka events. Until it has, it rejects the items
  // that name them as UNKNOWN_PARTICIPANT, so only those items are sent again.
  const sendBatch = async (batch: PendingImport[]): Promise<void> => {
    let results: ImportItemResult[];
    try {
      results = await retryLaggingItems(
        batch,
        async (items) =>
          (
            await client.request<{ importPastAppointments: ImportItemResult[] }>(IMPORT_BATCH, {
              inputs: items.map((item) => item.input),
            })
          ).importPastAppointments,
        isParticipantLag,
        {
          waitMs: replicaWaitMs,
          onFirstWait: (laggingCount) =>
            log(
              `Waiting up to ${Math.round(replicaWaitMs / 1000)} s for scheduling to learn of the patients or practitioners of ${laggingCount} of ${batch.length} encounters.`,
            ),
        },
      );
    } catch (error) {
      if (isFatal(error)) throw error;
      for (const item of batch) fail(item.encounterId, errorMessage(error));
      return;
    }
    results.forEach((result, index) => {
      if (result.appointment && result.created) summary.created++;
      else if (result.appointment) summary.existing++;
      else fail(batch[index]!.encounterId, result.errors.map((error) => error.message).join('; '));
    });
  };

  // Batches fill across bundle files, and up to `concurrency` of them are in flight at once.
  let pending: PendingImport[] = [];
  const inFlight = new Set<Promise<void>>();
  let fatal: unknown;
  const dispatch = async (batch: PendingImport[]) => {
    const sending: Promise<void> = sendBatch(batch)
      .catch((error: unknown) => {
        fatal ??= error;
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (fatal) throw fatal;
  };

  for (const file of await listBundleFiles(options.paths)) {
    let bundle: unknown;
    try {
      bundle = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      fail(file, `cannot read JSON: ${errorMessage(error)}`);
      continue;
    }
    const { records, skipped } = encountersOf(bundle);
    summary.read += records.length + skipped.length;
    for (const reason of skipped) skip(reason);

    for (const record of records) {
      try {
        const prepared = await prepare(record);
        if (prepared) pending.push(prepared);
      } catch (error) {
        if (isFatal(error)) throw error;
        fail(record.encounterId, errorMessage(error));
      }
      if (pending.length >= batchSize) {
        await dispatch(pending);
        pending = [];
      }
    }
  }
  if (pending.length > 0) await dispatch(pending);
  await Promise.all(inFlight);
  if (fatal) throw fatal;
  summary.practitionersCreated = practitioners.created;
  return summary;
}
