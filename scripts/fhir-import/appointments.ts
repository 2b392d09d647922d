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
import { DEFAULT_REPLICA_WAIT_MS, isReplicaLag, retryWhileReplicaLags } from './replica-wait.js';

export { NPI_SYSTEM, PRACTITIONER_EMAIL_DOMAIN, npiOf, practitionerEmail, practitionerName };

export interface AppointmentImportOptions {
  gatewayUrl: string;
  tenantSlug: string;
  /** A user with user:read, user:manage, patient:read and schedule:manage, such as a tenant_admin. */
  email: string;
  password: string;
  paths: string[];
  /** Encounters sent at once; 4 by default. */
  concurrency?: number;
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
const IMPORT = `mutation ImportPastAppointment($input: ImportPastAppointmentInput!) {
  importPastAppointment(input: $input) { id createdAt }
}`;

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
  const runStartedAt = new Date();
  const log = options.log ?? (() => undefined);
  const replicaWaitMs = options.replicaWaitMs ?? DEFAULT_REPLICA_WAIT_MS;
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
  // Promises, so that concurrent encounters of one patient share one lookup.
  const patients = new Map<string, Promise<string | null>>();
  await client.login();

  const practitioners = new PractitionerDirectory(client);
  const practitionerIdOf = (record: EncounterRecord): Promise<string> =>
    practitioners.idOf({ npi: record.npi, name: record.practitionerName });

  const patientIdOf = (fhirId: string): Promise<string | null> => {
    let found = patients.get(fhirId);
    if (!found) {
      found = client
        .request<{ patientByIdentifier: { id: string } | null }>(FIND_PATIENT, {
          system: SYNTHEA_IDENTIFIER_SYSTEM,
          value: fhirId,
        })
        .then((data) => data.patientByIdentifier?.id ?? null);
      found.catch(() => patients.delete(fhirId));
      patients.set(fhirId, found);
    }
    return found;
  };

  const importOne = async (record: EncounterRecord): Promise<void> => {
    if (Date.parse(record.endsAt) > now.getTime()) return skip('ends in the future');
    if (Date.parse(record.endsAt) - Date.parse(record.startsAt) > 24 * 3_600_000)
      return skip('longer than a day');
    const patientId = await patientIdOf(record.patientFhirId);
    if (!patientId) return skip('patient not imported');
    const practitionerId = await practitionerIdOf(record);
    const input = {
      sourceId: `synthea:Encounter/${record.encounterId}`,
      practitionerId,
      patientId,
      startsAt: record.startsAt,
      endsAt: record.endsAt,
      location: record.location,
    };

    // Scheduling copies new patients and users from Kafka events; until it has, it rejects them.
    const data = await retryWhileReplicaLags(
      () => client.request<{ importPastAppointment: { createdAt: string } }>(IMPORT, { input }),
      (error) => isReplicaLag(error, ['input.patientId', 'input.practitionerId']),
      {
        waitMs: replicaWaitMs,
        onFirstWait: () =>
          log(`Waiting for scheduling to learn of the patient or practitioner of ${input.sourceId}.`),
      },
    );
    if (Date.parse(data.importPastAppointment.createdAt) >= runStartedAt.getTime()) summary.created++;
    else summary.existing++;
  };

  for (const file of await listBundleFiles(options.paths)) {
    let bundle: unknown;
    try {
      bundle = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      summary.failed++;
      summary.failures.push({ encounterId: file, reason: `cannot read JSON: ${errorMessage(error)}` });
      continue;
    }
    const { records, skipped } = encountersOf(bundle);
    summary.read += records.length + skipped.length;
    for (const reason of skipped) skip(reason);

    // A few workers share the file's encounters; an error that no retry fixes stops them all.
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const record = records[next++]!;
        try {
          await importOne(record);
        } catch (error) {
          if (
            error instanceof GatewayError &&
            ['FORBIDDEN', 'UNAUTHENTICATED', 'TENANT_SUSPENDED'].includes(error.code)
          ) {
            throw error;
          }
          summary.failed++;
          summary.failures.push({ encounterId: record.encounterId, reason: errorMessage(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  }
  summary.practitionersCreated = practitioners.created;
  return summary;
}
