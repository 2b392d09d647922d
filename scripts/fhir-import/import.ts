// Registers the patients of Synthea FHIR R4 bundles in one tenant through the
// gateway, as any GraphQL client would, with their clinical history. Safe to
// run again: a patient whose Synthea id is already registered is skipped, and
// records imported before count as already imported.
import { listBundleFiles, readPatients, errorMessage, type BundleItem } from './bundles.js';
import { GatewayClient, GatewayError } from './gateway-client.js';
import {
  emptyCounts,
  FATAL_CODES,
  HistoryImporter,
  type CountKey,
  type ResourceCounts,
} from './history-import.js';
import { mapHistory } from './history-mapping.js';
import { PATIENT_NOT_IMPORTED } from './history-import.js';
import { mapPatient, SYNTHEA_IDENTIFIER_SYSTEM, type RegisterPatientInput } from './mapping.js';
import { PractitionerDirectory } from './practitioners.js';

export const ALREADY_IMPORTED = 'already imported';

export interface ImportOptions {
  /** GraphQL endpoint of the gateway, for example http://127.0.0.1:4000/graphql. */
  gatewayUrl: string;
  tenantSlug: string;
  /** Login name: an email or a phone number, as the identity subgraph accepts either. */
  email?: string;
  phone?: string;
  password: string;
  /** Bundle files, or folders searched recursively for .json files. */
  paths: string[];
  /** Patients being sent at once; defaults to 4. */
  concurrency?: number;
  /** Requests of one patient's history sent at once; defaults to 4. */
  requestConcurrency?: number;
  /** Creates of the history sent in one request; defaults to 15, the gateway's default alias limit. */
  batchSize?: number;
  /** Imports encounters, conditions, vital signs, allergies and prescriptions too; defaults to true. */
  history?: boolean;
  /** Patients between two progress lines; defaults to 100. */
  progressEvery?: number;
  /** Attempts per request, the first one included; defaults to 5. */
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  requestTimeoutMs?: number;
  /** Consecutive patients lost to network errors after which the run stops; defaults to 10. */
  maxConsecutiveNetworkFailures?: number;
  /**
   * A user with user:read and user:manage, such as a tenant_admin, that finds or creates the
   * practitioner each encounter names (as the appointment import does), who becomes the encounter's
   * attending. Without it, the login user is the attending of every imported encounter.
   */
  practitionerAccount?: { email: string; password: string };
  /** How long to wait for clinical to learn of a practitioner just created; 60 s by default. */
  replicaWaitMs?: number;
  /** Import time, which decides who counts as a minor; defaults to the current time. */
  now?: Date;
  /** Receives progress and warning lines; defaults to stderr. */
  log?: (line: string) => void;
}

export interface ImportFailure {
  file: string;
  /** Synthea id of the patient, or null when a whole file could not be read. */
  fhirId: string | null;
  reason: string;
}

export interface ImportSummary {
  /** Patient resources found in the files. */
  read: number;
  created: number;
  /** Already registered, or left out on purpose; `skippedReasons` counts each reason. */
  skipped: number;
  /** Patients not registered because of an error, plus files that could not be read. */
  failed: number;
  /** Values dropped from otherwise registered or skipped patients, such as impossible phone numbers. */
  warnings: number;
  skippedReasons: Record<string, number>;
  failures: ImportFailure[];
  /** Counts of the clinical history by FHIR resource type; empty when the history is not imported. */
  resources: Partial<Record<CountKey, ResourceCounts>>;
  /** Practitioners created as identity users to be the attending of imported encounters. */
  practitionersCreated: number;
}

/** A failure that stops the whole run, such as rejected credentials. */
export class ImportFatalError extends Error {
  constructor(
    message: string,
    /** The counts up to the point the run stopped. */
    readonly summary: ImportSummary,
  ) {
    super(message);
    this.name = 'ImportFatalError';
  }
}

const FIND_PATIENT = `query ImportFindPatient($system: String!, $value: String!) {
  patientByIdentifier(system: $system, value: $value) { id mrn }
}`;
const REGISTER_PATIENT = `mutation ImportRegisterPatient($input: RegisterPatientInput!) {
  registerPatient(input: $input) { id mrn }
}`;

type RegisterOutcome = { status: 'created'; id: string } | { status: 'skipped'; id: string; reason: string };

/**
 * Imports every Patient of the given bundles. Per-patient problems are
 * counted in the summary; throws ImportFatalError when the run cannot go on
 * (a path cannot be read, login is rejected, the user may not register
 * patients, or the gateway stays unreachable).
 */
export async function importFhir(options: ImportOptions): Promise<ImportSummary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`fhir-import: ${line}\n`));
  const now = options.now ?? new Date();
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const withHistory = options.history ?? true;
  const progressEvery = Math.max(1, options.progressEvery ?? 100);
  const maxNetworkFailures = Math.max(1, options.maxConsecutiveNetworkFailures ?? 10);
  const summary: ImportSummary = {
    read: 0,
    created: 0,
    skipped: 0,
    failed: 0,
    warnings: 0,
    skippedReasons: {},
    failures: [],
    resources: withHistory ? emptyCounts() : {},
    practitionersCreated: 0,
  };
  const fatal = (message: string) => new ImportFatalError(message, summary);

  let files: string[];
  try {
    files = await listBundleFiles(options.paths);
  } catch (error) {
    throw fatal(`cannot list the bundle files: ${errorMessage(error)}`);
  }
  log(`${files.length} bundle files to read`);

  const client = new GatewayClient({
    url: options.gatewayUrl,
    credentials: {
      tenantSlug: options.tenantSlug,
      email: options.email,
      phone: options.phone,
      password: options.password,
    },
    maxAttempts: options.maxAttempts,
    retryBaseDelayMs: options.retryBaseDelayMs,
    requestTimeoutMs: options.requestTimeoutMs,
    log,
  });
  try {
    await client.login();
  } catch (error) {
    const user = options.email ?? options.phone ?? '(no login name)';
    throw fatal(
      `cannot log in to ${options.gatewayUrl} as ${user} in tenant ${options.tenantSlug}: ${errorMessage(error)}`,
    );
  }

  const started = Date.now();
  let processed = 0;
  let consecutiveNetworkFailures = 0;
  const reportProgress = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (processed / seconds).toFixed(1) : '-';
    const records = Object.values(summary.resources).reduce(
      (total, counts) => total + counts.created + counts.alreadyImported,
      0,
    );
    log(
      `${summary.read} read, ${summary.created} created, ${summary.skipped} skipped, ` +
        `${summary.failed} failed, ${summary.warnings} warnings, ${records} history records ` +
        `created or already imported (${rate} patients/s, ${seconds.toFixed(0)} s)`,
    );
  };
  const finish = () => {
    processed++;
    if (processed % progressEvery === 0) reportProgress();
  };
  const skip = (reason: string) => {
    summary.skipped++;
    summary.skippedReasons[reason] = (summary.skippedReasons[reason] ?? 0) + 1;
  };
  const fail = (file: string, fhirId: string | null, reason: string) => {
    summary.failed++;
    summary.failures.push({ file, fhirId, reason });
    log(`failed: ${file}${fhirId ? ` Patient/${fhirId}` : ''}: ${reason}`);
  };

  let practitioners: PractitionerDirectory | undefined;
  if (withHistory && options.practitionerAccount) {
    const account = options.practitionerAccount;
    const practitionerClient = new GatewayClient({
      url: options.gatewayUrl,
      credentials: { tenantSlug: options.tenantSlug, email: account.email, password: account.password },
      maxAttempts: options.maxAttempts,
      retryBaseDelayMs: options.retryBaseDelayMs,
      requestTimeoutMs: options.requestTimeoutMs,
      log,
    });
    try {
      await practitionerClient.login();
    } catch (error) {
      throw fatal(
        `cannot log in to ${options.gatewayUrl} as ${account.email} (the practitioner account) in tenant ${options.tenantSlug}: ${errorMessage(error)}`,
      );
    }
    practitioners = new PractitionerDirectory(practitionerClient);
  }

  const history = new HistoryImporter({
    client,
    practitioners,
    replicaWaitMs: options.replicaWaitMs,
    counts: summary.resources as Record<CountKey, ResourceCounts>,
    log,
    requestConcurrency: Math.max(1, options.requestConcurrency ?? 4),
    batchSize: Math.max(1, options.batchSize ?? 15),
  });

  const findPatient = async (fhirId: string): Promise<string | undefined> => {
    const data = await client.request<{ patientByIdentifier: { id: string } | null }>(FIND_PATIENT, {
      system: SYNTHEA_IDENTIFIER_SYSTEM,
      value: fhirId,
    });
    return data.patientByIdentifier?.id;
  };

  const register = async (fhirId: string, input: RegisterPatientInput): Promise<RegisterOutcome> => {
    const found = await findPatient(fhirId);
    if (found !== undefined) return { status: 'skipped', id: found, reason: ALREADY_IMPORTED };
    let retried = false;
    try {
      const data = await client.request<{ registerPatient: { id: string } }>(
        REGISTER_PATIENT,
        { input },
        { onRetry: () => (retried = true) },
      );
      return { status: 'created', id: data.registerPatient.id };
    } catch (error) {
      // A CONFLICT comes from another run registering the same patient
      // meanwhile, from an earlier attempt of this request that did reach the
      // server, or from another patient holding one of the identifiers, such
      // as an SSN. Only a lookup by the Synthea id separates these cases.
      const id =
        error instanceof GatewayError && error.code === 'CONFLICT' ? await findPatient(fhirId) : undefined;
      if (id !== undefined) {
        return retried ? { status: 'created', id } : { status: 'skipped', id, reason: ALREADY_IMPORTED };
      }
      throw error;
    }
  };

  const importItem = async (item: BundleItem) => {
    if (item.kind === 'unreadable') {
      fail(item.file, null, item.reason);
      return;
    }
    summary.read++;
    const mapping = mapPatient(item.patient, { now });
    // The plan is made for every patient, so that the history of one who is
    // not imported is counted as skipped too.
    const plan = withHistory ? mapHistory(item.resources, { now }) : undefined;
    if (mapping.outcome === 'invalid') {
      fail(item.file, mapping.fhirId ?? null, mapping.reason);
      if (plan) history.skipPatient(plan);
      return finish();
    }
    if (mapping.outcome === 'skipped') {
      skip(mapping.reason);
      if (plan) history.skipPatient(plan, `${PATIENT_NOT_IMPORTED}: ${mapping.reason}`);
      return finish();
    }
    for (const warning of mapping.warnings)
      log(`warning: ${item.file} Patient/${mapping.fhirId}: ${warning}`);
    summary.warnings += mapping.warnings.length;
    let patientId: string;
    let registeredBefore: boolean;
    try {
      const outcome = await register(mapping.fhirId, mapping.input);
      if (outcome.status === 'created') summary.created++;
      else skip(outcome.reason);
      patientId = outcome.id;
      registeredBefore = outcome.status === 'skipped';
      consecutiveNetworkFailures = 0;
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      if (FATAL_CODES.has(error.code)) throw fatal(`${error.code} from the gateway: ${error.message}`);
      if (plan) history.skipPatient(plan);
      fail(item.file, mapping.fhirId, describeGatewayError(error));
      if (error.code === 'NETWORK_ERROR' && ++consecutiveNetworkFailures >= maxNetworkFailures) {
        throw fatal(
          `gateway unreachable for ${consecutiveNetworkFailures} patients in a row: ${error.message}`,
        );
      }
      return finish();
    }
    if (plan) {
      // The history importer counts every error itself and throws only FATAL_CODES.
      try {
        await history.importPatient(patientId, `Patient/${mapping.fhirId}`, plan, { registeredBefore });
      } catch (error) {
        if (error instanceof GatewayError) throw fatal(`${error.code} from the gateway: ${error.message}`);
        throw error;
      }
    }
    finish();
  };

  const items = readPatients(files);
  let stopError: unknown;
  const worker = async () => {
    // Async generators queue concurrent next() calls, so the workers share
    // one reader and each file is parsed once.
    while (stopError === undefined) {
      const next = await items.next();
      if (next.done) return;
      try {
        await importItem(next.value);
      } catch (error) {
        stopError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await items.return(undefined);
  summary.practitionersCreated = practitioners?.created ?? 0;
  reportProgress();
  if (stopError !== undefined) {
    throw stopError instanceof ImportFatalError ? stopError : fatal(errorMessage(stopError));
  }
  return summary;
}

/**
 * Formats the history counts as one line per resource type, each followed by
 * its skip reasons, most frequent first.
 */
export function formatResourceCounts(resources: ImportSummary['resources']): string[] {
  const lines: string[] = [];
  for (const [type, counts] of Object.entries(resources)) {
    lines.push(
      `  ${type}: created ${counts.created}, already imported ${counts.alreadyImported}, ` +
        `skipped ${counts.skipped}, failed ${counts.failed}`,
    );
    const reasons = Object.entries(counts.skippedReasons).sort(([, a], [, b]) => b - a);
    for (const [reason, count] of reasons) lines.push(`    skipped (${reason}): ${count}`);
  }
  return lines;
}

function describeGatewayError(error: GatewayError): string {
  const fields = error.fields === undefined ? '' : ` (fields: ${JSON.stringify(error.fields)})`;
  return `${error.code}: ${error.message}${fields}`;
}
