// Finds FHIR bundle files and reads the Patient resources out of them, with
// the clinical resources of the same bundle, one file at a time, so memory use
// stays at one parsed bundle per worker however large the population is.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HISTORY_RESOURCE_TYPES } from './history-mapping.js';
import { isFhirPatient, type FhirPatient } from './mapping.js';

/**
 * One Patient resource with the clinical resources of its bundle (empty for a
 * file that is a Patient alone), or the reason a whole file could not be read.
 */
export type BundleItem =
  | { kind: 'patient'; file: string; patient: FhirPatient; resources: unknown[] }
  | { kind: 'unreadable'; file: string; reason: string };

// Synthea writes the organizations and practitioners that the patient bundles
// reference into bundles of their own, which contain no patients.
const INFORMATION_BUNDLE = /^(hospital|practitioner)Information.*\.json$/;

/**
 * Lists the .json files to import. Files named directly are taken as they
 * are. Folders are searched recursively and sorted by path so that runs are
 * repeatable, leaving out Synthea's hospital and practitioner bundles.
 */
export async function listBundleFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const absolute = resolve(path);
    const info = await stat(absolute);
    if (info.isDirectory()) {
      const found = await readdir(absolute, { recursive: true, withFileTypes: true });
      files.push(
        ...found
          .filter(
            (entry) => entry.isFile() && entry.name.endsWith('.json') && !INFORMATION_BUNDLE.test(entry.name),
          )
          .map((entry) => join(entry.parentPath, entry.name))
          .sort(),
      );
    } else {
      files.push(absolute);
    }
  }
  return files;
}

// Medication resources are kept because MedicationRequest may point to them.
const KEPT_TYPES = new Set<unknown>([...HISTORY_RESOURCE_TYPES, 'Medication']);

/**
 * Yields the Patient resources of each file in turn: from a Bundle's entries,
 * or a file that is a Patient. A Synthea bundle contains one patient, so its
 * clinical resources go with that patient. A bundle of several patients
 * yields them without clinical resources, because telling which resource
 * belongs to whom would need every reference resolved.
 */
export async function* readPatients(files: string[]): AsyncGenerator<BundleItem> {
  for (const file of files) {
    let document: unknown;
    try {
      document = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      yield { kind: 'unreadable', file, reason: `cannot read JSON: ${errorMessage(error)}` };
      continue;
    }
    if (isFhirPatient(document)) {
      yield { kind: 'patient', file, patient: document, resources: [] };
      continue;
    }
    if (!isBundle(document)) {
      yield { kind: 'unreadable', file, reason: 'not a FHIR Bundle or Patient resource' };
      continue;
    }
    const resources = (Array.isArray(document.entry) ? document.entry : []).map((entry: unknown) =>
      typeof entry === 'object' && entry !== null ? (entry as { resource?: unknown }).resource : undefined,
    );
    const patients = resources.filter(isFhirPatient);
    const clinical =
      patients.length === 1
        ? resources.filter(
            (resource) =>
              typeof resource === 'object' &&
              resource !== null &&
              KEPT_TYPES.has((resource as { resourceType?: unknown }).resourceType),
          )
        : [];
    // Dropping the reference to the parsed bundle before yielding lets the
    // garbage collector reclaim the other resources while patients are sent.
    document = undefined;
    for (const patient of patients) yield { kind: 'patient', file, patient, resources: clinical };
  }
}

function isBundle(document: unknown): document is { resourceType: 'Bundle'; entry?: unknown } {
  return (
    typeof document === 'object' &&
    document !== null &&
    (document as { resourceType?: unknown }).resourceType === 'Bundle'
  );
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
