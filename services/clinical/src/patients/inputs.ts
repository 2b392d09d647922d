import type { AddressValue, AdministrativeSex } from '../entities/patient.js';
import type { GuardianRelationship } from '../entities/patient-guardian.js';
import type { IdentifierType } from '../entities/patient-identifier.js';

/** GraphQL input types of the patient schema, as the resolvers receive them (nullable fields may be null). */
export interface HumanNameInput {
  given: string[];
  family: string;
  prefix?: string[] | null;
  suffix?: string[] | null;
}

export interface AddressInput {
  lines?: string[] | null;
  city?: string | null;
  district?: string | null;
  state?: string | null;
  postalCode?: string | null;
  country?: string | null;
}

export interface PatientIdentifierInput {
  type: IdentifierType;
  system: string;
  value: string;
}

export interface GuardianInput {
  name: HumanNameInput;
  relationship: GuardianRelationship;
  phone?: string | null;
  email?: string | null;
}

export interface RegisterPatientInput {
  name: HumanNameInput;
  sex: AdministrativeSex;
  genderIdentity?: string | null;
  birthDate: string;
  deceasedAt?: Date | null;
  phone?: string | null;
  email?: string | null;
  address?: AddressInput | null;
  identifiers?: PatientIdentifierInput[] | null;
  guardians?: GuardianInput[] | null;
}

/** Every field optional: a field left out keeps its value, null clears it (or fails when it is required). */
export type UpdatePatientInput = { [K in keyof RegisterPatientInput]?: RegisterPatientInput[K] | null };

/** A name after validation: trimmed, with empty affix lists instead of nulls. */
export interface NameValue {
  given: string[];
  family: string;
  prefix: string[];
  suffix: string[];
}

export interface IdentifierValue {
  type: IdentifierType;
  system: string;
  value: string;
}

export interface GuardianValue {
  name: NameValue;
  relationship: GuardianRelationship;
  phone: string | null;
  email: string | null;
}

/** A patient's demographics after validation, ready to store. */
export interface PatientDraft {
  name: NameValue;
  sex: AdministrativeSex;
  genderIdentity: string | null;
  birthDate: string;
  deceasedAt: Date | null;
  phone: string | null;
  email: string | null;
  address: AddressValue | null;
  identifiers: IdentifierValue[];
  guardians: GuardianValue[];
}
