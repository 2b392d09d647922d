// Maps the clinical resources of one Synthea patient bundle (Encounter,
// Condition, Observation, AllergyIntolerance, MedicationRequest) to the inputs
// of the clinical subgraph's mutations. Pure functions only, like mapping.ts:
// the plan names every record to create and every resource left out, with the
// reason, and history-import.ts sends it.
import {
  conceptText,
  isObject,
  objectsOf,
  text,
  type FhirCodeableConcept,
  type FhirCoding,
  type FhirPeriod,
} from './mapping.js';
import { encounterPractitioner, type PractitionerReference } from './practitioners.js';

/** The FHIR resource types whose records the importer creates, besides Patient. */
export const HISTORY_RESOURCE_TYPES = [
  'Encounter',
  'Condition',
  'Observation',
  'AllergyIntolerance',
  'MedicationRequest',
] as const;
export type HistoryResourceType = (typeof HISTORY_RESOURCE_TYPES)[number];

/** Observations outside the vital-signs category: counted, but not logged one by one. */
export const NOT_A_VITAL_SIGN = 'not a vital sign';

/** Builds the import's idempotency key of a resource, which the record stores as its sourceId. */
export function sourceIdOf(resourceType: string, fhirId: string): string {
  return `synthea:${resourceType}/${fhirId}`;
}

// Inputs of the clinical subgraph's GraphQL contract, without the ids that
// only exist at import time (patient, encounter, ward).
export type CodeSystem = 'RXNORM' | 'SNOMED_CT' | 'ICD_10' | 'ICD_10_CM' | 'LOINC';

export interface CodedConceptInput {
  system?: CodeSystem;
  code?: string;
  display: string;
}

export interface QuantityInput {
  value: number;
  unit: string;
}

export interface DiagnosisInput {
  codeSystem?: 'ICD10' | 'SNOMED_CT';
  code?: string;
  text: string;
  sourceId: string;
}

export interface EncounterFields {
  chiefComplaint?: string;
  diagnoses?: DiagnosisInput[];
  sourceId: string;
}

export interface OpenEncounterFields extends EncounterFields {
  class: 'AMBULATORY' | 'EMERGENCY';
  startedAt: string;
  endedAt: string;
}

export interface PastAdmissionFields extends EncounterFields {
  admittedAt: string;
  dischargedAt: string;
}

/** An encounter to create, with the practitioner its source credits, who becomes its attending. */
export type PlannedEncounter = (
  | { fhirId: string; mutation: 'openEncounter'; input: OpenEncounterFields }
  | { fhirId: string; mutation: 'recordPastAdmission'; input: PastAdmissionFields }
) & { practitioner?: PractitionerReference };

export interface ProblemFields {
  sourceId: string;
  condition: CodedConceptInput;
  onsetAt?: string;
  resolvedAt?: string;
  recordedAt?: string;
}

export interface VitalSignsFields {
  effectiveAt: string;
  sourceId: string;
  bodyTemperature?: QuantityInput;
  heartRate?: QuantityInput;
  respiratoryRate?: QuantityInput;
  bloodPressure?: { systolic: number; diastolic: number; unit: string };
  oxygenSaturation?: QuantityInput & { code?: string };
  bodyHeight?: QuantityInput;
  bodyWeight?: QuantityInput;
  headCircumference?: QuantityInput;
}

export type VitalSignField = Exclude<keyof VitalSignsFields, 'effectiveAt' | 'sourceId'>;

export interface AllergyFields {
  sourceId: string;
  substance: CodedConceptInput;
  type?: 'ALLERGY' | 'INTOLERANCE';
  category: 'MEDICATION' | 'FOOD' | 'ENVIRONMENT' | 'BIOLOGIC';
  criticality?: 'LOW' | 'HIGH' | 'UNABLE_TO_ASSESS';
  clinicalStatus?: 'ACTIVE' | 'INACTIVE' | 'RESOLVED';
  verificationStatus?: 'UNCONFIRMED' | 'CONFIRMED' | 'REFUTED';
  reactions?: { manifestation: CodedConceptInput; severity?: 'MILD' | 'MODERATE' | 'SEVERE' }[];
  onsetAt?: string;
  recordedAt?: string;
}

export type TimeUnit = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

export interface PrescriptionFields {
  sourceId: string;
  medication: CodedConceptInput;
  /** Left out only for COMPLETED or STOPPED history whose source gives no usable dose. */
  dose?: QuantityInput;
  /** Left out only for COMPLETED or STOPPED history whose source gives no usable schedule. */
  frequency?: { timesPerPeriod?: number; period?: number; periodUnit?: TimeUnit; asNeeded: boolean };
  instructions?: string;
  authoredAt: string;
  status: 'ACTIVE' | 'COMPLETED' | 'STOPPED';
  statusReason?: string;
}

/** A record to create, with the Synthea id of the encounter it belongs to, when the bundle names one. */
export interface Planned<T> {
  fhirId: string;
  encounterFhirId?: string;
  input: T;
}

export interface PlannedVitals {
  encounterFhirId?: string;
  input: VitalSignsFields;
  /** Synthea ids of the Observations behind each field of the panel. */
  observationIds: Partial<Record<VitalSignField, string[]>>;
}

export interface SkippedResource {
  resourceType: HistoryResourceType;
  fhirId: string;
  reason: string;
}

export interface HistoryPlan {
  encounters: PlannedEncounter[];
  /** Conditions carried as diagnoses, by the Synthea id of their encounter. */
  diagnosisCount: Map<string, number>;
  problems: Planned<ProblemFields>[];
  vitals: PlannedVitals[];
  allergies: Planned<AllergyFields>[];
  prescriptions: Planned<PrescriptionFields>[];
  skipped: SkippedResource[];
  /** Observations of other categories than vital-signs. */
  notVitalSigns: number;
}

export interface HistoryMappingOptions {
  /** The import time: no record may start or end after it. */
  now: Date;
}

interface FhirResource {
  resourceType?: unknown;
  id?: unknown;
  [key: string]: unknown;
}

interface FhirReference {
  reference?: unknown;
  display?: unknown;
}

interface FhirQuantity {
  value?: unknown;
  unit?: unknown;
  code?: unknown;
}

const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const LOINC = 'http://loinc.org';
const CODE_SYSTEM_BY_URI = new Map<string, CodeSystem>([
  [SNOMED, 'SNOMED_CT'],
  [RXNORM, 'RXNORM'],
  ['http://hl7.org/fhir/sid/icd-10', 'ICD_10'],
  ['http://hl7.org/fhir/sid/icd-10-cm', 'ICD_10_CM'],
  [LOINC, 'LOINC'],
]);

/**
 * Maps the resources of one patient's bundle. Resource types the importer
 * does not read are ignored, so the caller may pass the whole bundle.
 */
export function mapHistory(resources: unknown[], options: HistoryMappingOptions): HistoryPlan {
  const plan: HistoryPlan = {
    encounters: [],
    diagnosisCount: new Map(),
    problems: [],
    vitals: [],
    allergies: [],
    prescriptions: [],
    skipped: [],
    notVitalSigns: 0,
  };
  const byType = new Map<string, FhirResource[]>();
  const medications = new Map<string, FhirResource>();
  for (const resource of resources) {
    if (!isObject(resource)) continue;
    const type = text(resource.resourceType);
    if (type === undefined) continue;
    if (type === 'Medication') {
      const id = text(resource.id);
      if (id) medications.set(id, resource);
      continue;
    }
    const list = byType.get(type) ?? [];
    list.push(resource);
    byType.set(type, list);
  }
  const skip = (resourceType: HistoryResourceType, fhirId: string, reason: string) =>
    plan.skipped.push({ resourceType, fhirId, reason });
  const now = options.now;

  // Conditions first, so that each encounter carries its diagnoses.
  const diagnosesByEncounter = new Map<string, DiagnosisInput[]>();
  for (const condition of byType.get('Condition') ?? []) {
    const fhirId = text(condition.id);
    if (!fhirId) continue;
    const mapped = mapCondition(condition, fhirId, now);
    if (typeof mapped === 'string') {
      skip('Condition', fhirId, mapped);
      continue;
    }
    plan.problems.push(mapped.problem);
    if (mapped.problem.encounterFhirId) {
      const list = diagnosesByEncounter.get(mapped.problem.encounterFhirId) ?? [];
      list.push(mapped.diagnosis);
      diagnosesByEncounter.set(mapped.problem.encounterFhirId, list);
    }
  }

  for (const encounter of byType.get('Encounter') ?? []) {
    const fhirId = text(encounter.id);
    if (!fhirId) continue;
    const mapped = mapEncounter(encounter, fhirId, now);
    if (typeof mapped === 'string') {
      skip('Encounter', fhirId, mapped);
      continue;
    }
    const practitioner = encounterPractitioner(encounter.participant);
    if (practitioner) mapped.practitioner = practitioner;
    const diagnoses = diagnosesByEncounter.get(fhirId);
    if (diagnoses) {
      mapped.input.diagnoses = diagnoses;
      plan.diagnosisCount.set(fhirId, diagnoses.length);
    }
    plan.encounters.push(mapped);
  }

  mapVitalSigns(byType.get('Observation') ?? [], now, plan);

  for (const allergy of byType.get('AllergyIntolerance') ?? []) {
    const fhirId = text(allergy.id);
    if (!fhirId) continue;
    const mapped = mapAllergy(allergy, fhirId, now);
    if (typeof mapped === 'string') skip('AllergyIntolerance', fhirId, mapped);
    else plan.allergies.push(mapped);
  }

  for (const request of byType.get('MedicationRequest') ?? []) {
    const fhirId = text(request.id);
    if (!fhirId) continue;
    const mapped = mapMedicationRequest(request, fhirId, medications, now);
    if (typeof mapped === 'string') skip('MedicationRequest', fhirId, mapped);
    else plan.prescriptions.push(mapped);
  }
  return plan;
}

// Classes of the HL7 v3 ActCode encounter codes that Synthea and other FHIR
// sources write. HMS has outpatient visits (AMBULATORY), emergency visits
// (EMERGENCY) and ward stays (INPATIENT).
const VISIT_CLASS_BY_CODE = new Map<string, 'AMBULATORY' | 'EMERGENCY'>([
  ['AMB', 'AMBULATORY'],
  // Synthea's emergency encounters last about an hour and occupy no bed; a
  // patient admitted from the emergency room gets a separate IMP encounter.
  ['EMER', 'EMERGENCY'],
]);
// Inpatient, acute and non-acute inpatient, short stay and observation
// encounters all keep the patient in a bed, so they become ward stays.
const STAY_CLASS_CODES = new Set(['IMP', 'ACUTE', 'NONAC', 'SS', 'OBSENC']);
const SKIPPED_CLASS_REASON = new Map<string, string>([
  ['HH', 'home health encounter: HMS records only hospital visits and stays'],
  ['VR', 'virtual encounter: HMS has no encounter class for telehealth'],
  ['FLD', 'field encounter: HMS records only hospital visits and stays'],
  ['PRENC', 'pre-admission encounter: HMS has no encounter class for it'],
]);

function mapEncounter(encounter: FhirResource, fhirId: string, now: Date): PlannedEncounter | string {
  const classCode = text((encounter.class as FhirCoding | undefined)?.code);
  if (classCode === undefined) return 'encounter has no class';
  const visitClass = VISIT_CLASS_BY_CODE.get(classCode);
  if (visitClass === undefined && !STAY_CLASS_CODES.has(classCode)) {
    return SKIPPED_CLASS_REASON.get(classCode) ?? `encounter class ${classCode} has no HMS equivalent`;
  }
  const status = text(encounter.status);
  if (status !== 'finished')
    return `encounter status "${status ?? 'none'}": only finished encounters are imported`;
  const period = encounter.period as FhirPeriod | undefined;
  const start = instant(period?.start);
  const end = instant(period?.end);
  if (start === undefined) return 'encounter has no valid period.start';
  if (end === undefined) return 'finished encounter has no valid period.end';
  if (end < start) return 'encounter ends before it starts';
  if (Date.parse(end) > now.getTime()) return 'encounter ends after the import time';

  const reason = objectsOf<FhirCodeableConcept>(encounter.reasonCode)
    .map(conceptText)
    .find((value) => value !== undefined);
  const type = objectsOf<FhirCodeableConcept>(encounter.type)
    .map(conceptText)
    .find((value) => value !== undefined);
  const fields: EncounterFields = { sourceId: sourceIdOf('Encounter', fhirId) };
  // Synthea gives a reason only for visits about a problem; for the others,
  // such as check-ups, the encounter type is the reason for the visit.
  const chiefComplaint = reason ?? type;
  if (chiefComplaint) fields.chiefComplaint = chiefComplaint;

  if (visitClass !== undefined) {
    return {
      fhirId,
      mutation: 'openEncounter',
      input: { ...fields, class: visitClass, startedAt: start, endedAt: end },
    };
  }
  // A stay needs a discharge after the admission; a zero-length one is moved
  // by one second rather than dropped.
  const dischargedAt = end === start ? new Date(Date.parse(end) + 1000).toISOString() : end;
  if (Date.parse(dischargedAt) > now.getTime()) return 'encounter ends after the import time';
  return {
    fhirId,
    mutation: 'recordPastAdmission',
    input: { ...fields, admittedAt: start, dischargedAt },
  };
}

const ACTIVE_CONDITION_STATUSES = new Set(['active', 'recurrence', 'relapse']);
const ENDED_CONDITION_STATUSES = new Set(['resolved', 'inactive', 'remission']);

function mapCondition(
  condition: FhirResource,
  fhirId: string,
  now: Date,
): { problem: Planned<ProblemFields>; diagnosis: DiagnosisInput } | string {
  const verification = firstCode(condition.verificationStatus as FhirCodeableConcept | undefined);
  if (verification === 'refuted' || verification === 'entered-in-error') {
    return `condition verification status is ${verification}`;
  }
  const concept = codedConcept(condition.code as FhirCodeableConcept | undefined);
  if (!concept) return 'condition has no code or text';
  const clinicalStatus = firstCode(condition.clinicalStatus as FhirCodeableConcept | undefined);
  if (clinicalStatus === undefined) return 'condition has no clinical status';

  const problem: ProblemFields = { sourceId: sourceIdOf('Condition', fhirId), condition: concept };
  const onsetAt = instant(condition.onsetDateTime);
  if (onsetAt !== undefined) {
    if (Date.parse(onsetAt) > now.getTime()) return 'condition onset is after the import time';
    problem.onsetAt = onsetAt;
  }
  const recordedAt = instant(condition.recordedDate);
  if (recordedAt !== undefined && Date.parse(recordedAt) <= now.getTime()) problem.recordedAt = recordedAt;

  if (ENDED_CONDITION_STATUSES.has(clinicalStatus)) {
    const resolvedAt = instant(condition.abatementDateTime);
    if (resolvedAt === undefined) return `condition is ${clinicalStatus} but has no abatementDateTime`;
    if (onsetAt !== undefined && resolvedAt < onsetAt) return 'condition abatement is before its onset';
    // Synthea writes the planned end of a condition that is still going on
    // at the reference date; at the import time it is still active.
    if (Date.parse(resolvedAt) <= now.getTime()) problem.resolvedAt = resolvedAt;
  } else if (!ACTIVE_CONDITION_STATUSES.has(clinicalStatus)) {
    return `condition clinical status "${clinicalStatus}" has no HMS equivalent`;
  }

  const diagnosis: DiagnosisInput = { text: concept.display, sourceId: problem.sourceId };
  if (concept.code !== undefined && concept.system === 'SNOMED_CT') {
    diagnosis.codeSystem = 'SNOMED_CT';
    diagnosis.code = concept.code;
  } else if (concept.code !== undefined && (concept.system === 'ICD_10' || concept.system === 'ICD_10_CM')) {
    diagnosis.codeSystem = 'ICD10';
    diagnosis.code = concept.code;
  }
  const encounterFhirId = referencedId(condition.encounter, 'Encounter');
  return {
    problem: { fhirId, ...(encounterFhirId ? { encounterFhirId } : {}), input: problem },
    diagnosis,
  };
}

type VitalSlot =
  | { field: Exclude<VitalSignField, 'bloodPressure' | 'oxygenSaturation'> }
  | { field: 'oxygenSaturation'; code: string }
  | { field: 'bloodPressure' };

// LOINC codes of the vital signs HMS records (see VitalSignKind).
const VITAL_SLOT_BY_LOINC = new Map<string, VitalSlot>([
  ['8310-5', { field: 'bodyTemperature' }],
  ['8867-4', { field: 'heartRate' }],
  ['9279-1', { field: 'respiratoryRate' }],
  ['85354-9', { field: 'bloodPressure' }],
  ['2708-6', { field: 'oxygenSaturation', code: '2708-6' }],
  ['59408-5', { field: 'oxygenSaturation', code: '59408-5' }],
  ['8302-2', { field: 'bodyHeight' }],
  ['29463-7', { field: 'bodyWeight' }],
  ['9843-4', { field: 'headCircumference' }],
]);
const BODY_MASS_INDEX = '39156-5';
const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';
const RECORDED_OBSERVATION_STATUSES = new Set(['final', 'amended', 'corrected']);

/**
 * Groups the vital-sign Observations into one panel per encounter and
 * effective time, as HMS records a panel of measurements taken together.
 */
function mapVitalSigns(observations: FhirResource[], now: Date, plan: HistoryPlan): void {
  const panels = new Map<string, PlannedVitals>();
  const skip = (fhirId: string, reason: string) =>
    plan.skipped.push({ resourceType: 'Observation', fhirId, reason });

  for (const observation of observations) {
    const fhirId = text(observation.id);
    if (!fhirId) continue;
    const categories = objectsOf<FhirCodeableConcept>(observation.category).flatMap((concept) =>
      objectsOf<FhirCoding>(concept.coding).map((coding) => text(coding.code)),
    );
    if (!categories.includes('vital-signs')) {
      plan.notVitalSigns++;
      continue;
    }
    const loincCodes = objectsOf<FhirCoding>((observation.code as FhirCodeableConcept | undefined)?.coding)
      .filter((coding) => coding.system === LOINC)
      .map((coding) => text(coding.code))
      .filter((code) => code !== undefined);
    if (loincCodes.includes(BODY_MASS_INDEX)) {
      skip(fhirId, 'body mass index: HMS computes it from height and weight');
      continue;
    }
    const slot = loincCodes.map((code) => VITAL_SLOT_BY_LOINC.get(code)).find((value) => value !== undefined);
    if (!slot) {
      const name = conceptText(observation.code as FhirCodeableConcept | undefined) ?? 'no name';
      skip(fhirId, `vital sign HMS does not record: LOINC ${loincCodes[0] ?? 'none'} ${name}`);
      continue;
    }
    const status = text(observation.status);
    if (!RECORDED_OBSERVATION_STATUSES.has(status ?? '')) {
      skip(fhirId, `observation status "${status ?? 'none'}" is not a recorded result`);
      continue;
    }
    const effectiveAt = instant(observation.effectiveDateTime);
    if (effectiveAt === undefined) {
      skip(fhirId, 'observation has no valid effectiveDateTime');
      continue;
    }
    if (Date.parse(effectiveAt) > now.getTime()) {
      skip(fhirId, 'observation is after the import time');
      continue;
    }

    const encounterFhirId = referencedId(observation.encounter, 'Encounter');
    const key = `${encounterFhirId ?? ''}|${effectiveAt}`;
    let panel = panels.get(key);
    if (!panel) {
      panel = {
        ...(encounterFhirId ? { encounterFhirId } : {}),
        input: { effectiveAt, sourceId: sourceIdOf('Observation', fhirId) },
        observationIds: {},
      };
      panels.set(key, panel);
    }
    if (panel.input[slot.field] !== undefined) {
      skip(fhirId, `a second ${slot.field} at the same time in the same encounter`);
      continue;
    }

    if (slot.field === 'bloodPressure') {
      const components = objectsOf<{ code?: FhirCodeableConcept; valueQuantity?: FhirQuantity }>(
        observation.component,
      );
      const componentValue = (code: string) =>
        components.find((component) =>
          objectsOf<FhirCoding>(component.code?.coding).some((coding) => coding.code === code),
        )?.valueQuantity;
      const systolic = quantity(componentValue(SYSTOLIC));
      const diastolic = quantity(componentValue(DIASTOLIC));
      if (!systolic || !diastolic) {
        skip(fhirId, 'blood pressure panel lacks a systolic or diastolic value');
        continue;
      }
      if (systolic.unit !== diastolic.unit) {
        skip(fhirId, `blood pressure components in two units: ${systolic.unit} and ${diastolic.unit}`);
        continue;
      }
      panel.input.bloodPressure = {
        systolic: systolic.value,
        diastolic: diastolic.value,
        unit: systolic.unit,
      };
    } else {
      const value = quantity(observation.valueQuantity as FhirQuantity | undefined);
      if (!value) {
        skip(fhirId, 'observation has no valueQuantity with a value and a unit');
        continue;
      }
      if (slot.field === 'oxygenSaturation') panel.input.oxygenSaturation = { ...value, code: slot.code };
      else panel.input[slot.field] = value;
    }
    panel.observationIds[slot.field] = [fhirId];
  }

  // A panel whose only Observations were left out carries no measurement.
  for (const panel of panels.values()) {
    if (Object.keys(panel.observationIds).length > 0) plan.vitals.push(panel);
  }
}

const ALLERGY_CATEGORY = new Map<string, AllergyFields['category']>([
  ['food', 'FOOD'],
  ['medication', 'MEDICATION'],
  ['environment', 'ENVIRONMENT'],
  ['biologic', 'BIOLOGIC'],
]);
const ALLERGY_CRITICALITY = new Map<string, NonNullable<AllergyFields['criticality']>>([
  ['low', 'LOW'],
  ['high', 'HIGH'],
  ['unable-to-assess', 'UNABLE_TO_ASSESS'],
]);
const ALLERGY_CLINICAL_STATUS = new Map<string, NonNullable<AllergyFields['clinicalStatus']>>([
  ['active', 'ACTIVE'],
  ['inactive', 'INACTIVE'],
  ['resolved', 'RESOLVED'],
]);
const ALLERGY_VERIFICATION_STATUS = new Map<string, NonNullable<AllergyFields['verificationStatus']>>([
  ['unconfirmed', 'UNCONFIRMED'],
  ['confirmed', 'CONFIRMED'],
  ['refuted', 'REFUTED'],
]);
const REACTION_SEVERITY = new Map<string, 'MILD' | 'MODERATE' | 'SEVERE'>([
  ['mild', 'MILD'],
  ['moderate', 'MODERATE'],
  ['severe', 'SEVERE'],
]);

function mapAllergy(allergy: FhirResource, fhirId: string, now: Date): Planned<AllergyFields> | string {
  const substance = codedConcept(allergy.code as FhirCodeableConcept | undefined);
  if (!substance) return 'allergy has no substance code or text';
  const categories = Array.isArray(allergy.category) ? allergy.category.map(text) : [];
  const category = categories.map((value) => ALLERGY_CATEGORY.get(value ?? '')).find((value) => value);
  if (!category) return 'allergy has no category (food, medication, environment or biologic)';
  const verification = firstCode(allergy.verificationStatus as FhirCodeableConcept | undefined);
  if (verification === 'entered-in-error') return 'allergy verification status is entered-in-error';

  const input: AllergyFields = { sourceId: sourceIdOf('AllergyIntolerance', fhirId), substance, category };
  if (allergy.type === 'allergy') input.type = 'ALLERGY';
  else if (allergy.type === 'intolerance') input.type = 'INTOLERANCE';
  const criticality = ALLERGY_CRITICALITY.get(text(allergy.criticality) ?? '');
  if (criticality) input.criticality = criticality;
  const clinicalStatus = firstCode(allergy.clinicalStatus as FhirCodeableConcept | undefined);
  const mappedClinicalStatus = ALLERGY_CLINICAL_STATUS.get(clinicalStatus ?? '');
  if (mappedClinicalStatus) input.clinicalStatus = mappedClinicalStatus;
  const mappedVerification = ALLERGY_VERIFICATION_STATUS.get(verification ?? '');
  if (mappedVerification) input.verificationStatus = mappedVerification;

  const reactions = objectsOf<{ manifestation?: unknown; severity?: unknown }>(allergy.reaction).flatMap(
    (reaction) => {
      const severity = REACTION_SEVERITY.get(text(reaction.severity) ?? '');
      return objectsOf<FhirCodeableConcept>(reaction.manifestation)
        .map(codedConcept)
        .filter((manifestation) => manifestation !== undefined)
        .map((manifestation) => ({ manifestation, ...(severity ? { severity } : {}) }));
    },
  );
  if (reactions.length > 0) input.reactions = reactions;
  const onsetAt = instant(allergy.onsetDateTime);
  if (onsetAt !== undefined && Date.parse(onsetAt) <= now.getTime()) input.onsetAt = onsetAt;
  const recordedAt = instant(allergy.recordedDate);
  if (recordedAt !== undefined && Date.parse(recordedAt) <= now.getTime()) input.recordedAt = recordedAt;
  const encounterFhirId = referencedId(allergy.encounter, 'Encounter');
  return { fhirId, ...(encounterFhirId ? { encounterFhirId } : {}), input };
}

const ORDER_INTENTS = new Set(['order', 'original-order', 'reflex-order', 'filler-order', 'instance-order']);
const PERIOD_UNIT = new Map<string, TimeUnit>([
  ['h', 'HOUR'],
  ['d', 'DAY'],
  ['wk', 'WEEK'],
  ['mo', 'MONTH'],
]);
/** Synthea marks every medication that has ended as stopped and gives no reason. */
export const STOPPED_WITHOUT_REASON = 'Stopped in the imported record, which gives no reason.';

// Dose forms at the end of RxNorm clinical drug names, such as "Oral Tablet",
// with the UCUM annotation of one unit of that form.
const DOSE_UNIT_BY_FORM: [RegExp, string][] = [
  [/\btablet\b/i, '{tbl}'],
  [/\bcapsule\b/i, '{capsule}'],
  [/\bpatch\b/i, '{patch}'],
  [/\b(inhaler|inhalant|metered dose)\b/i, '{puff}'],
];

function mapMedicationRequest(
  request: FhirResource,
  fhirId: string,
  medications: Map<string, FhirResource>,
  now: Date,
): Planned<PrescriptionFields> | string {
  const intent = text(request.intent);
  if (!ORDER_INTENTS.has(intent ?? ''))
    return `medication request intent "${intent ?? 'none'}" is not an order`;
  let status: PrescriptionFields['status'];
  switch (request.status) {
    case 'active':
      status = 'ACTIVE';
      break;
    case 'completed':
      status = 'COMPLETED';
      break;
    case 'stopped':
      status = 'STOPPED';
      break;
    default:
      return `medication request status "${String(request.status)}": HMS imports only active, completed and stopped prescriptions`;
  }

  let concept = request.medicationCodeableConcept as FhirCodeableConcept | undefined;
  if (!concept) {
    const medicationId = referencedId(request.medicationReference, 'Medication');
    concept = medicationId
      ? ((medications.get(medicationId)?.code as FhirCodeableConcept | undefined) ?? undefined)
      : undefined;
  }
  const medication = codedConcept(concept);
  if (!medication) return 'medication request names no medication the bundle contains';

  const authoredAt = instant(request.authoredOn);
  if (authoredAt === undefined) return 'medication request has no valid authoredOn';
  if (Date.parse(authoredAt) > now.getTime()) return 'medication request is authored after the import time';

  // Clinical records COMPLETED and STOPPED history without the dose or schedule its source lacks,
  // as not recorded. An ACTIVE prescription orders the drug, so it needs both.
  const dosage = dosageOf(request, medication.display);
  if (status === 'ACTIVE') {
    if (typeof dosage.dose === 'string') return dosage.dose;
    if (typeof dosage.frequency === 'string') return dosage.frequency;
  }
  const dose = typeof dosage.dose === 'string' ? undefined : dosage.dose;
  const frequency = typeof dosage.frequency === 'string' ? undefined : dosage.frequency;

  const input: PrescriptionFields = {
    sourceId: sourceIdOf('MedicationRequest', fhirId),
    medication,
    ...(dose ? { dose } : {}),
    ...(frequency ? { frequency } : {}),
    authoredAt,
    status,
  };
  if (status === 'STOPPED') input.statusReason = STOPPED_WITHOUT_REASON;
  if (dosage.instructions) input.instructions = dosage.instructions;
  const encounterFhirId = referencedId(request.encounter, 'Encounter');
  return { fhirId, ...(encounterFhirId ? { encounterFhirId } : {}), input };
}

/**
 * Reads the dose and frequency of a MedicationRequest's first dosage instruction. Each is the value,
 * or the reason it cannot be read from the source.
 */
function dosageOf(
  request: FhirResource,
  medicationName: string,
): {
  dose: QuantityInput | string;
  frequency: NonNullable<PrescriptionFields['frequency']> | string;
  instructions?: string;
} {
  const dosage = objectsOf<{
    text?: unknown;
    asNeededBoolean?: unknown;
    timing?: { repeat?: { frequency?: unknown; period?: unknown; periodUnit?: unknown } };
    doseAndRate?: unknown;
  }>(request.dosageInstruction)[0];
  if (!dosage) {
    const reason = 'medication request has no dosage instruction, and HMS requires a dose and frequency';
    return { dose: reason, frequency: reason };
  }
  const instructions = text(dosage.text);
  const result = (
    dose: QuantityInput | string,
    frequency: NonNullable<PrescriptionFields['frequency']> | string,
  ) => (instructions ? { dose, frequency, instructions } : { dose, frequency });

  let dose: QuantityInput | string;
  const doseQuantity = objectsOf<{ doseQuantity?: FhirQuantity }>(dosage.doseAndRate)[0]?.doseQuantity;
  const doseValue = typeof doseQuantity?.value === 'number' ? doseQuantity.value : undefined;
  const doseUnit =
    text(doseQuantity?.code) ??
    text(doseQuantity?.unit) ??
    DOSE_UNIT_BY_FORM.find(([form]) => form.test(medicationName))?.[1];
  if (doseValue === undefined || doseValue <= 0)
    dose = 'dosage instruction has no dose, and HMS requires one';
  else if (!doseUnit) dose = 'dose has no unit, and the medication name names no countable dose form';
  else dose = { value: doseValue, unit: doseUnit };

  const asNeeded = dosage.asNeededBoolean === true;
  const repeat = dosage.timing?.repeat;
  if (typeof repeat?.frequency === 'number') {
    const periodUnit = PERIOD_UNIT.get(text(repeat.periodUnit) ?? '');
    if (!periodUnit)
      return result(dose, `dosage period unit "${String(repeat.periodUnit)}" is not h, d, wk or mo`);
    return result(dose, {
      asNeeded,
      timesPerPeriod: repeat.frequency,
      period: typeof repeat.period === 'number' ? repeat.period : 1,
      periodUnit,
    });
  }
  if (!asNeeded) return result(dose, 'dosage instruction has neither a schedule nor as-needed use');
  return result(dose, { asNeeded });
}

/**
 * Returns a coded concept from the first coding of a known system, or the
 * concept's text alone as free text.
 */
function codedConcept(concept: FhirCodeableConcept | undefined): CodedConceptInput | undefined {
  for (const coding of objectsOf<FhirCoding>(concept?.coding)) {
    const system = CODE_SYSTEM_BY_URI.get(text(coding.system) ?? '');
    const code = text(coding.code);
    const display = text(coding.display) ?? text(concept?.text);
    if (system && code && display) return { system, code, display };
  }
  const display = conceptText(concept);
  return display ? { display } : undefined;
}

function firstCode(concept: FhirCodeableConcept | undefined): string | undefined {
  return objectsOf<FhirCoding>(concept?.coding)
    .map((coding) => text(coding.code))
    .find((code) => code !== undefined);
}

function quantity(value: FhirQuantity | undefined): QuantityInput | undefined {
  if (typeof value?.value !== 'number' || !Number.isFinite(value.value)) return undefined;
  const unit = text(value.code) ?? text(value.unit);
  return unit ? { value: value.value, unit } : undefined;
}

/**
 * Returns the id a reference points to: `urn:uuid:<id>` inside a transaction
 * bundle, or a relative `<resourceType>/<id>`.
 */
export function referencedId(reference: unknown, resourceType: string): string | undefined {
  const value = text((reference as FhirReference | undefined)?.reference);
  if (value === undefined) return undefined;
  if (value.startsWith('urn:uuid:')) return value.slice('urn:uuid:'.length);
  const prefix = `${resourceType}/`;
  return value.startsWith(prefix) ? value.slice(prefix.length) : undefined;
}

/** Converts a FHIR dateTime with a time to the API's UTC instant; dates without a time are not instants. */
function instant(value: unknown): string | undefined {
  const raw = text(value);
  if (raw === undefined || !/T\d{2}:\d{2}/.test(raw)) return undefined;
  const parsed = Date.parse(raw);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}
