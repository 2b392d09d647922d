// Maps a FHIR R4 Patient resource, as Synthea writes it, to the clinical
// subgraph's RegisterPatientInput. Pure functions only: no I/O, so the rules
// below are testable on fixtures and the caller decides what to do with the
// outcome.
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** System of the identifier Synthea puts on every resource. Its value is the resource id. */
export const SYNTHEA_IDENTIFIER_SYSTEM = 'https://github.com/synthetichealth/synthea';
export const MINOR_WITHOUT_GUARDIAN = 'minor without guardian in source data';
/** Age below which the clinical API rejects a patient registered without a guardian. */
export const AGE_OF_MAJORITY = 18;

const US_SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const V2_IDENTIFIER_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const GENDER_IDENTITY_URL = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-genderIdentity';

// Types of the clinical subgraph's GraphQL contract.
export type AdministrativeSex = 'FEMALE' | 'MALE' | 'OTHER' | 'UNKNOWN';
export type IdentifierType =
  'NATIONAL_ID' | 'PASSPORT' | 'DRIVER_LICENSE' | 'INSURANCE' | 'EXTERNAL' | 'OTHER';
export type GuardianRelationship =
  'MOTHER' | 'FATHER' | 'PARENT' | 'LEGAL_GUARDIAN' | 'GRANDPARENT' | 'SIBLING' | 'OTHER';

export interface HumanNameInput {
  given: string[];
  family: string;
  prefix?: string[];
  suffix?: string[];
}

export interface AddressInput {
  lines?: string[];
  city?: string;
  district?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}

export interface PatientIdentifierInput {
  type: IdentifierType;
  system: string;
  value: string;
}

export interface GuardianInput {
  name: HumanNameInput;
  relationship: GuardianRelationship;
  phone?: string;
  email?: string;
}

export interface RegisterPatientInput {
  name: HumanNameInput;
  sex: AdministrativeSex;
  genderIdentity?: string;
  birthDate: string;
  deceasedAt?: string;
  phone?: string;
  email?: string;
  address?: AddressInput;
  identifiers?: PatientIdentifierInput[];
  guardians?: GuardianInput[];
}

// The subset of FHIR R4 that the mapping reads. Every field is optional
// because the files come from outside and are checked value by value.
export interface FhirCoding {
  system?: unknown;
  code?: unknown;
  display?: unknown;
}

export interface FhirCodeableConcept {
  coding?: unknown;
  text?: unknown;
}

export interface FhirPeriod {
  start?: unknown;
  end?: unknown;
}

interface FhirHumanName {
  use?: unknown;
  family?: unknown;
  given?: unknown;
  prefix?: unknown;
  suffix?: unknown;
  period?: FhirPeriod;
}

interface FhirContactPoint {
  system?: unknown;
  value?: unknown;
  use?: unknown;
  rank?: unknown;
  period?: FhirPeriod;
}

interface FhirAddress {
  use?: unknown;
  line?: unknown;
  city?: unknown;
  district?: unknown;
  state?: unknown;
  postalCode?: unknown;
  country?: unknown;
  period?: FhirPeriod;
}

interface FhirIdentifier {
  type?: FhirCodeableConcept;
  system?: unknown;
  value?: unknown;
  period?: FhirPeriod;
}

interface FhirExtension {
  url?: unknown;
  valueString?: unknown;
  valueCodeableConcept?: FhirCodeableConcept;
}

interface FhirPatientContact {
  relationship?: unknown;
  name?: FhirHumanName;
  telecom?: unknown;
  period?: FhirPeriod;
}

export interface FhirPatient {
  resourceType: 'Patient';
  id?: unknown;
  identifier?: unknown;
  name?: unknown;
  telecom?: unknown;
  gender?: unknown;
  birthDate?: unknown;
  deceasedBoolean?: unknown;
  deceasedDateTime?: unknown;
  address?: unknown;
  contact?: unknown;
  extension?: unknown;
}

export type PatientMapping =
  | { outcome: 'mapped'; fhirId: string; input: RegisterPatientInput; warnings: string[] }
  | { outcome: 'skipped'; fhirId: string; reason: string }
  | { outcome: 'invalid'; fhirId: string | undefined; reason: string };

export interface MappingOptions {
  /** The import time: decides who is a minor and which periods have ended. */
  now: Date;
}

export function isFhirPatient(resource: unknown): resource is FhirPatient {
  return isObject(resource) && resource.resourceType === 'Patient';
}

/**
 * Maps one Patient resource. A problem that only loses an optional value,
 * such as an impossible phone number, becomes a warning. A problem that would
 * register a wrong or incomplete patient makes the whole resource `invalid`.
 */
export function mapPatient(patient: FhirPatient, options: MappingOptions): PatientMapping {
  const fhirId = patientFhirId(patient);
  if (fhirId === undefined) {
    return { outcome: 'invalid', fhirId, reason: 'Patient has neither an id nor a Synthea identifier' };
  }
  const invalid = (reason: string): PatientMapping => ({ outcome: 'invalid', fhirId, reason });
  const warnings: string[] = [];
  const now = options.now;

  const fhirName = pickCurrent(objectsOf<FhirHumanName>(patient.name), now, ['official', 'usual']);
  const name = fhirName && mapName(fhirName);
  if (!name) return invalid('Patient has no name with a family name');

  const birthDate = text(patient.birthDate);
  if (birthDate === undefined) return invalid('Patient has no birthDate');
  if (!isFullDate(birthDate)) return invalid(`birthDate "${birthDate}" is not a full YYYY-MM-DD date`);

  const input: RegisterPatientInput = { name, sex: mapSex(patient.gender, warnings), birthDate };

  const genderIdentity = extensionsOf(patient, GENDER_IDENTITY_URL)
    .map((extension) => conceptText(extension.valueCodeableConcept))
    .find((value) => value !== undefined);
  if (genderIdentity) input.genderIdentity = genderIdentity;

  const deceasedDateTime = text(patient.deceasedDateTime);
  if (deceasedDateTime !== undefined) {
    const instant = Date.parse(deceasedDateTime);
    if (Number.isNaN(instant)) return invalid(`deceasedDateTime "${deceasedDateTime}" is not a date`);
    input.deceasedAt = new Date(instant).toISOString();
  } else if (patient.deceasedBoolean === true) {
    // Registering the patient as living would be wrong, and the API records
    // death only as an instant.
    return invalid('Patient is deceased but has no deceasedDateTime');
  }

  const telecom = objectsOf<FhirContactPoint>(patient.telecom);
  const phone = pickPhone(telecom, now, warnings);
  if (phone) input.phone = phone;
  const email = pickEmail(telecom, now, warnings);
  if (email) input.email = email;

  const address = pickCurrent(objectsOf<FhirAddress>(patient.address), now, ['home']);
  const mappedAddress = address && mapAddress(address);
  if (mappedAddress) input.address = mappedAddress;

  input.identifiers = mapIdentifiers(fhirId, objectsOf<FhirIdentifier>(patient.identifier), warnings);

  // The clinical service asks a guardian only of living minors: a child who has died has nobody to act for.
  if (!input.deceasedAt && isMinor(birthDate, now)) {
    const guardians = mapGuardians(objectsOf<FhirPatientContact>(patient.contact), now, warnings);
    // Synthea writes no contacts, only the mother's maiden name. A guardian
    // made up from that would be an invented person, so such minors are left
    // out instead.
    if (guardians.length === 0) return { outcome: 'skipped', fhirId, reason: MINOR_WITHOUT_GUARDIAN };
    input.guardians = guardians;
  }

  return { outcome: 'mapped', fhirId, input, warnings };
}

/** Returns the Synthea resource id, which is the import's idempotency key. */
export function patientFhirId(patient: FhirPatient): string | undefined {
  const id = text(patient.id);
  if (id) return id;
  return objectsOf<FhirIdentifier>(patient.identifier)
    .filter((identifier) => identifier.system === SYNTHEA_IDENTIFIER_SYSTEM)
    .map((identifier) => text(identifier.value))
    .find((value) => value !== undefined);
}

/** Tells whether someone born on `birthDate` (YYYY-MM-DD) is under AGE_OF_MAJORITY on the UTC date of `now`. */
export function isMinor(birthDate: string, now: Date): boolean {
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  const majority = Date.UTC(year + AGE_OF_MAJORITY, month - 1, day);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  // A 29 February birthday rolls over to 1 March in a non-leap year here.
  return today < majority;
}

/**
 * Normalises a phone number to E.164, reading numbers without a country code
 * as US numbers because Synthea writes them as 555-123-4567.
 */
export function toE164(raw: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, 'US');
  return parsed?.isPossible() ? parsed.number : undefined;
}

function mapName(name: FhirHumanName): HumanNameInput | undefined {
  const family = text(name.family);
  if (!family) return undefined;
  // Synthea appends digits to names to make them unique. They are kept so
  // that imported patients can be matched to the source files by name.
  const result: HumanNameInput = { given: texts(name.given), family };
  const prefix = texts(name.prefix);
  if (prefix.length > 0) result.prefix = prefix;
  const suffix = texts(name.suffix);
  if (suffix.length > 0) result.suffix = suffix;
  return result;
}

function mapSex(gender: unknown, warnings: string[]): AdministrativeSex {
  switch (gender) {
    case 'male':
      return 'MALE';
    case 'female':
      return 'FEMALE';
    case 'other':
      return 'OTHER';
    case 'unknown':
      return 'UNKNOWN';
    default:
      warnings.push(
        gender === undefined
          ? 'no gender; registered as UNKNOWN'
          : `gender "${String(gender)}" registered as UNKNOWN`,
      );
      return 'UNKNOWN';
  }
}

function mapAddress(address: FhirAddress): AddressInput | undefined {
  const result: AddressInput = {};
  const lines = texts(address.line);
  if (lines.length > 0) result.lines = lines;
  for (const key of ['city', 'district', 'state', 'postalCode', 'country'] as const) {
    const value = text(address[key]);
    if (value) result[key] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

// Keys are codes of HL7 v2 table 0203 (identifier type). A null value drops the identifier.
const IDENTIFIER_TYPE_BY_V2_CODE = new Map<string, IdentifierType | null>([
  // The tenant assigns its own medical record numbers, so the source's are dropped.
  ['MR', null],
  ['SS', 'NATIONAL_ID'],
  ['DL', 'DRIVER_LICENSE'],
  ['PPN', 'PASSPORT'],
  ['MA', 'INSURANCE'],
  ['MB', 'INSURANCE'],
  ['MC', 'INSURANCE'],
  ['SN', 'INSURANCE'],
]);

function mapIdentifiers(
  fhirId: string,
  identifiers: FhirIdentifier[],
  warnings: string[],
): PatientIdentifierInput[] {
  const result: PatientIdentifierInput[] = [
    { type: 'EXTERNAL', system: SYNTHEA_IDENTIFIER_SYSTEM, value: fhirId },
  ];
  const seen = new Set([`${SYNTHEA_IDENTIFIER_SYSTEM}|${fhirId}`]);
  for (const identifier of identifiers) {
    const system = text(identifier.system);
    const value = text(identifier.value);
    if (!value) continue;
    const code = codesOf(identifier.type, V2_IDENTIFIER_TYPE_SYSTEM)[0];
    let type: IdentifierType | null;
    if (system === SYNTHEA_IDENTIFIER_SYSTEM) type = 'EXTERNAL';
    else if (system === US_SSN_SYSTEM) type = 'NATIONAL_ID';
    else if (code !== undefined && IDENTIFIER_TYPE_BY_V2_CODE.has(code))
      type = IDENTIFIER_TYPE_BY_V2_CODE.get(code) ?? null;
    else type = 'OTHER';
    if (type === null) continue;
    if (!system) {
      warnings.push(`identifier of type ${code ?? 'unknown'} has no system; dropped`);
      continue;
    }
    const key = `${system}|${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ type, system, value });
  }
  return result;
}

// Codes from HL7 v3 RoleCode (personal relationships) and v2 table 0063,
// which both appear in Patient.contact.relationship.
const GUARDIAN_RELATIONSHIP_BY_CODE = new Map<string, GuardianRelationship>([
  ['MTH', 'MOTHER'],
  ['NMTH', 'MOTHER'],
  ['ADOPTM', 'MOTHER'],
  ['FTH', 'FATHER'],
  ['NFTH', 'FATHER'],
  ['ADOPTF', 'FATHER'],
  ['PRN', 'PARENT'],
  ['NPRN', 'PARENT'],
  ['ADOPTP', 'PARENT'],
  ['PAR', 'PARENT'],
  ['GUARD', 'LEGAL_GUARDIAN'],
  ['GRD', 'LEGAL_GUARDIAN'],
  ['GRPRN', 'GRANDPARENT'],
  ['GRMTH', 'GRANDPARENT'],
  ['GRFTH', 'GRANDPARENT'],
  ['MGRMTH', 'GRANDPARENT'],
  ['MGRFTH', 'GRANDPARENT'],
  ['PGRMTH', 'GRANDPARENT'],
  ['PGRFTH', 'GRANDPARENT'],
  ['GRP', 'GRANDPARENT'],
  ['SIB', 'SIBLING'],
  ['BRO', 'SIBLING'],
  ['SIS', 'SIBLING'],
  ['NSIB', 'SIBLING'],
]);

// Legal guardians and parents are listed before other contacts because they
// are the most likely to hold custody.
const RELATIONSHIP_ORDER: GuardianRelationship[] = [
  'LEGAL_GUARDIAN',
  'MOTHER',
  'FATHER',
  'PARENT',
  'GRANDPARENT',
  'SIBLING',
  'OTHER',
];

function mapGuardians(contacts: FhirPatientContact[], now: Date, warnings: string[]): GuardianInput[] {
  const guardians: GuardianInput[] = [];
  for (const contact of contacts) {
    if (hasEnded(contact.period, now)) continue;
    const name = contact.name && mapName(contact.name);
    if (!name) continue;
    const codes = objectsOf<FhirCodeableConcept>(contact.relationship).flatMap((concept) => codesOf(concept));
    const relationship =
      codes.map((code) => GUARDIAN_RELATIONSHIP_BY_CODE.get(code)).find((value) => value !== undefined) ??
      'OTHER';
    const guardian: GuardianInput = { name, relationship };
    const telecom = objectsOf<FhirContactPoint>(contact.telecom);
    const phone = pickPhone(telecom, now, warnings, 'guardian ');
    if (phone) guardian.phone = phone;
    const email = pickEmail(telecom, now, warnings, 'guardian ');
    if (email) guardian.email = email;
    guardians.push(guardian);
  }
  return guardians.sort(
    (a, b) => RELATIONSHIP_ORDER.indexOf(a.relationship) - RELATIONSHIP_ORDER.indexOf(b.relationship),
  );
}

const PHONE_USE_ORDER = ['mobile', 'home', 'work', 'temp'];

/** Picks the best-ranked possible phone number, warning about each impossible one passed over. */
function pickPhone(
  telecom: FhirContactPoint[],
  now: Date,
  warnings: string[],
  owner = '',
): string | undefined {
  const phones = currentContactPoints(telecom, 'phone', now).sort(
    (a, b) => rankOf(a) - rankOf(b) || useOrder(a) - useOrder(b),
  );
  for (const phone of phones) {
    const raw = text(phone.value);
    if (!raw) continue;
    const e164 = toE164(raw);
    if (e164) return e164;
    warnings.push(`${owner}phone "${raw}" is not a possible phone number; dropped`);
  }
  return undefined;
}

function pickEmail(
  telecom: FhirContactPoint[],
  now: Date,
  warnings: string[],
  owner = '',
): string | undefined {
  for (const point of currentContactPoints(telecom, 'email', now).sort((a, b) => rankOf(a) - rankOf(b))) {
    const raw = text(point.value);
    if (!raw) continue;
    if (/^[^\s@]+@[^\s@]+$/.test(raw)) return raw;
    warnings.push(`${owner}email "${raw}" is not an email address; dropped`);
  }
  return undefined;
}

function currentContactPoints(telecom: FhirContactPoint[], system: string, now: Date): FhirContactPoint[] {
  return telecom.filter(
    (point) => point.system === system && point.use !== 'old' && !hasEnded(point.period, now),
  );
}

function rankOf(point: FhirContactPoint): number {
  return typeof point.rank === 'number' ? point.rank : Number.MAX_SAFE_INTEGER;
}

function useOrder(point: FhirContactPoint): number {
  const index = PHONE_USE_ORDER.indexOf(String(point.use));
  return index === -1 ? PHONE_USE_ORDER.length : index;
}

/**
 * Picks the element whose `use` comes earliest in `preferredUses`, or else
 * the first in source order. Elements marked old or whose period has ended
 * are never picked.
 */
function pickCurrent<T extends { use?: unknown; period?: FhirPeriod }>(
  items: T[],
  now: Date,
  preferredUses: string[],
): T | undefined {
  const current = items.filter((item) => item.use !== 'old' && !hasEnded(item.period, now));
  for (const use of preferredUses) {
    const match = current.find((item) => item.use === use);
    if (match) return match;
  }
  return current[0];
}

function hasEnded(period: FhirPeriod | undefined, now: Date): boolean {
  const end = text(period?.end);
  if (end === undefined) return false;
  const instant = Date.parse(end);
  return !Number.isNaN(instant) && instant < now.getTime();
}

function extensionsOf(patient: FhirPatient, url: string): FhirExtension[] {
  return objectsOf<FhirExtension>(patient.extension).filter((extension) => extension.url === url);
}

export function codesOf(concept: FhirCodeableConcept | undefined, system?: string): string[] {
  return objectsOf<FhirCoding>(concept?.coding)
    .filter((coding) => system === undefined || coding.system === system)
    .map((coding) => text(coding.code))
    .filter((code) => code !== undefined);
}

export function conceptText(concept: FhirCodeableConcept | undefined): string | undefined {
  const conceptLabel = text(concept?.text);
  if (conceptLabel) return conceptLabel;
  const coding = objectsOf<FhirCoding>(concept?.coding)[0];
  return text(coding?.display) ?? text(coding?.code);
}

function isFullDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectsOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value.filter(isObject) as T[]) : [];
}

/** Returns a trimmed non-empty string, or undefined for anything else. */
export function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function texts(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text).filter((item) => item !== undefined) : [];
}
