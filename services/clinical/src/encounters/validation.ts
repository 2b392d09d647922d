import { InputErrors } from '@hms/service-kit';
import { CODE_SYSTEMS, type CodeSystem } from '../entities/diagnosis.js';
import { ENCOUNTER_CLASSES, type EncounterClass } from '../entities/encounter.js';
import {
  checkNotFuture,
  checkOptionalId,
  MAX_SHORT_TEXT,
  optionalText,
  requiredText,
  sourceIdOf,
} from './common.js';
import { codeFormatError } from '../records/codes.js';

export interface DiagnosisInput {
  codeSystem?: CodeSystem | null;
  code?: string | null;
  text: string;
  primary?: boolean | null;
  sourceId?: string | null;
}

export interface DiagnosisDraft {
  codeSystem: CodeSystem | null;
  code: string | null;
  text: string;
  primary: boolean;
  sourceId: string | null;
}

export interface OpenEncounterInput {
  patientId: string;
  class?: EncounterClass | null;
  chiefComplaint?: string | null;
  departmentId?: string | null;
  attendingId?: string | null;
  startedAt?: Date | null;
  endedAt?: Date | null;
  diagnoses?: DiagnosisInput[] | null;
  sourceId?: string | null;
}

export interface UpdateEncounterInput {
  chiefComplaint?: string | null;
  departmentId?: string | null;
  attendingId?: string | null;
}

/** Validates a coded or free-text concept: codeSystem and code come together, and text is required. */
export function validateCodedText(
  errors: InputErrors,
  input: { codeSystem?: CodeSystem | null; code?: string | null; text: string },
  path: string,
): { codeSystem: CodeSystem | null; code: string | null; text: string } {
  const text = requiredText(errors, input.text, `${path}.text`, MAX_SHORT_TEXT);
  const codeSystem = input.codeSystem ?? null;
  const code = input.code?.trim() ? input.code.trim().toUpperCase() : null;
  if (codeSystem !== null && !CODE_SYSTEMS.includes(codeSystem)) {
    errors.add(`${path}.codeSystem`, `must be one of ${CODE_SYSTEMS.join(', ')}`);
  }
  if ((codeSystem === null) !== (code === null)) {
    errors.add(
      codeSystem === null ? `${path}.codeSystem` : `${path}.code`,
      'codeSystem and code must be given together, or both left out for a free-text concept',
    );
  } else if (codeSystem !== null && code !== null) {
    const formatError = codeFormatError(codeSystem, code);
    if (formatError) errors.add(`${path}.code`, formatError);
  }
  return { codeSystem, code, text };
}

/** Validates one diagnosis, naming its fields under `path`. */
export function validateDiagnosis(errors: InputErrors, input: DiagnosisInput, path: string): DiagnosisDraft {
  return {
    ...validateCodedText(errors, input, path),
    primary: input.primary ?? false,
    sourceId: sourceIdOf(errors, input.sourceId, `${path}.sourceId`),
  };
}

/** Validates the diagnoses of one request. At most one of them may be primary. */
export function validateDiagnoses(
  errors: InputErrors,
  inputs: readonly DiagnosisInput[] | null | undefined,
  path: string,
): DiagnosisDraft[] {
  const drafts = (inputs ?? []).map((input, index) => validateDiagnosis(errors, input, `${path}[${index}]`));
  if (drafts.filter((draft) => draft.primary).length > 1) {
    errors.add(path, 'at most one diagnosis may be primary');
  }
  const sourceIds = drafts.map((draft) => draft.sourceId).filter((id) => id !== null);
  if (new Set(sourceIds).size !== sourceIds.length) errors.add(path, 'sourceId values must differ');
  return drafts;
}

export interface OpenEncounterDraft {
  patientId: string;
  encounterClass: EncounterClass;
  chiefComplaint: string | null;
  departmentId: string | null;
  attendingId: string | null;
  startedAt: Date;
  endedAt: Date | null;
  diagnoses: DiagnosisDraft[];
  sourceId: string | null;
}

/** Validates openEncounter's input against the request's clock. */
export function validateOpenEncounter(input: OpenEncounterInput, now: Date): OpenEncounterDraft {
  const errors = new InputErrors();
  checkOptionalId(errors, input.patientId, 'input.patientId', 'patient');
  checkOptionalId(errors, input.departmentId, 'input.departmentId', 'department');
  checkOptionalId(errors, input.attendingId, 'input.attendingId', 'user');
  const encounterClass = input.class ?? 'AMBULATORY';
  if (encounterClass === 'INPATIENT') {
    errors.add(
      'input.class',
      'must be AMBULATORY or EMERGENCY. Open INPATIENT encounters with admitPatient or recordPastAdmission',
    );
  } else if (!ENCOUNTER_CLASSES.includes(encounterClass)) {
    errors.add('input.class', 'must be AMBULATORY or EMERGENCY');
  }
  const startedAt = input.startedAt ?? now;
  const endedAt = input.endedAt ?? null;
  checkNotFuture(errors, startedAt, 'input.startedAt', now);
  checkNotFuture(errors, endedAt, 'input.endedAt', now);
  if (endedAt && endedAt.getTime() < startedAt.getTime())
    errors.add('input.endedAt', 'must not be before startedAt');

  const draft: OpenEncounterDraft = {
    patientId: input.patientId,
    encounterClass,
    chiefComplaint: optionalText(errors, input.chiefComplaint, 'input.chiefComplaint'),
    departmentId: input.departmentId ?? null,
    attendingId: input.attendingId ?? null,
    startedAt,
    endedAt,
    diagnoses: validateDiagnoses(errors, input.diagnoses, 'input.diagnoses'),
    sourceId: sourceIdOf(errors, input.sourceId, 'input.sourceId'),
  };
  errors.throwIfAny();
  return draft;
}

/** Validates updateEncounter's input. Keys left out of the input stay out of the result. */
export function validateUpdateEncounter(input: UpdateEncounterInput): UpdateEncounterInput {
  const errors = new InputErrors();
  const draft: UpdateEncounterInput = {};
  if (input.chiefComplaint !== undefined) {
    draft.chiefComplaint = optionalText(errors, input.chiefComplaint, 'input.chiefComplaint');
  }
  if (input.departmentId !== undefined) {
    checkOptionalId(errors, input.departmentId, 'input.departmentId', 'department');
    draft.departmentId = input.departmentId;
  }
  if (input.attendingId !== undefined) {
    if (input.attendingId === null)
      errors.add('input.attendingId', 'must not be null. Every encounter has an attending');
    checkOptionalId(errors, input.attendingId, 'input.attendingId', 'user');
    draft.attendingId = input.attendingId;
  }
  errors.throwIfAny();
  return draft;
}

/** Validates the reason of a cancellation, an entered-in-error mark or a removal. */
export function validateReason(reason: string, field = 'reason'): string {
  const errors = new InputErrors();
  const text = requiredText(errors, reason, field, MAX_SHORT_TEXT);
  errors.throwIfAny();
  return text;
}
