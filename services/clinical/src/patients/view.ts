import type { AddressValue, AdministrativeSex, Patient } from '../entities/patient.js';
import type { PatientGuardian } from '../entities/patient-guardian.js';
import type { PatientIdentifier } from '../entities/patient-identifier.js';
import { isMinor, patientAge, type AgeView } from './age.js';
import type { GuardianValue, IdentifierValue, NameValue, PatientDraft } from './inputs.js';

/** A name as the HumanName type serves it. */
export interface HumanNameView extends NameValue {
  text: string;
}

export interface GuardianView {
  id: string;
  name: HumanNameView;
  relationship: GuardianValue['relationship'];
  phone: string | null;
  email: string | null;
}

/** The tenant settings a patient's age depends on. */
export interface AgeSettings {
  ageOfMajority: number;
  /** IANA time zone in which a birthday begins. */
  timeZone: string;
}

/** A patient exactly as the Patient type serves it, so the schema needs no field resolvers. */
export interface PatientView {
  id: string;
  mrn: string;
  name: HumanNameView;
  sex: AdministrativeSex;
  genderIdentity: string | null;
  birthDate: string;
  deceasedAt: Date | null;
  phone: string | null;
  email: string | null;
  address: AddressValue | null;
  identifiers: IdentifierValue[];
  guardians: GuardianView[];
  isMinor: boolean;
  ageOfMajority: number;
  age: AgeView;
  createdAt: Date;
  updatedAt: Date;
}

export function nameView(name: NameValue): HumanNameView {
  return { ...name, text: [...name.prefix, ...name.given, name.family, ...name.suffix].join(' ') };
}

/** Builds the view of a patient; `identifiers` and `guardians` must be in their stored order. */
export function patientView(
  patient: Patient,
  identifiers: PatientIdentifier[],
  guardians: PatientGuardian[],
  settings: AgeSettings,
  now: Date,
): PatientView {
  const deceasedAt = patient.deceasedAt ?? null;
  return {
    id: patient.id,
    mrn: patient.mrn,
    name: nameView(nameOf(patient)),
    sex: patient.sex,
    genderIdentity: patient.genderIdentity ?? null,
    birthDate: patient.birthDate,
    deceasedAt: patient.deceasedAt ?? null,
    phone: patient.phone ?? null,
    email: patient.email ?? null,
    address: patient.address ?? null,
    identifiers: identifiers.map(({ type, system, value }) => ({ type, system, value })),
    guardians: guardians.map((guardian) => ({
      id: guardian.id,
      name: nameView(nameOf(guardian)),
      relationship: guardian.relationship,
      phone: guardian.phone ?? null,
      email: guardian.email ?? null,
    })),
    isMinor: isMinor(patient.birthDate, settings.ageOfMajority, deceasedAt, now, settings.timeZone),
    ageOfMajority: settings.ageOfMajority,
    age: patientAge(patient.birthDate, deceasedAt, now, settings.timeZone),
    createdAt: patient.createdAt,
    updatedAt: patient.updatedAt,
  };
}

/** Extracts the stored demographics of a patient, which an update is validated against. */
export function draftOf(
  patient: Patient,
  identifiers: PatientIdentifier[],
  guardians: PatientGuardian[],
): PatientDraft {
  return {
    name: nameOf(patient),
    sex: patient.sex,
    genderIdentity: patient.genderIdentity ?? null,
    birthDate: patient.birthDate,
    deceasedAt: patient.deceasedAt ?? null,
    phone: patient.phone ?? null,
    email: patient.email ?? null,
    address: patient.address ?? null,
    identifiers: identifiers.map(({ type, system, value }) => ({ type, system, value })),
    guardians: guardians.map((guardian) => ({
      name: nameOf(guardian),
      relationship: guardian.relationship,
      phone: guardian.phone ?? null,
      email: guardian.email ?? null,
    })),
  };
}

function nameOf(record: {
  givenNames: string[];
  familyName: string;
  namePrefix: string[];
  nameSuffix: string[];
}): NameValue {
  return {
    given: record.givenNames,
    family: record.familyName,
    prefix: record.namePrefix,
    suffix: record.nameSuffix,
  };
}
