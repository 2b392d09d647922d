import { LockMode } from '@mikro-orm/postgresql';
import { DischargeSummaryChangedSchema } from '@hms/proto-schemas';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import type { CodeSystem } from '../entities/diagnosis.js';
import { DischargeSummary } from '../entities/discharge-summary.js';
import { DischargeSummaryVersion, type SummaryContent } from '../entities/discharge-summary-version.js';
import { Encounter } from '../entities/encounter.js';
import {
  assertId,
  flushOrConflict,
  MAX_SHORT_TEXT,
  optionalText,
  requiredText,
} from '../encounters/common.js';
import { Operation, recordChange } from '../encounters/events.js';
import { VOIDED_STATUSES, type Actor } from '../encounters/store.js';
import { validateCodedText } from '../encounters/validation.js';

/**
 * Discharge summaries of INPATIENT encounters, versioned like notes: a DRAFT is edited in place, a
 * SIGNED summary changes only by an amendment that adds a version, and the
 * discharge_summary_versions trigger rejects any change of a signed version.
 */

const SUMMARY = 'DischargeSummary';
/** Maximum number of entries in one list (diagnoses, procedures, medications) of a summary. */
const MAX_ENTRIES = 100;

export interface SummaryContentInput {
  diagnoses?: { codeSystem?: CodeSystem | null; code?: string | null; text: string }[] | null;
  procedures?: { codeSystem?: CodeSystem | null; code?: string | null; text: string }[] | null;
  hospitalCourse?: string | null;
  medicationsOnDischarge?: string[] | null;
  followUp?: string | null;
}

/** Validates summary content. Every list may be empty, but the summary as a whole may not. */
export function validateSummaryContent(
  input: SummaryContentInput,
  path: string,
  extra?: (errors: InputErrors) => void,
): SummaryContent {
  const errors = new InputErrors();
  const list = <T, R>(
    values: readonly T[] | null | undefined,
    field: string,
    check: (value: T, at: string) => R,
  ): R[] => {
    if ((values?.length ?? 0) > MAX_ENTRIES)
      errors.add(`${path}.${field}`, `must have at most ${MAX_ENTRIES} entries`);
    return (values ?? []).map((value, index) => check(value, `${path}.${field}[${index}]`));
  };
  const content: SummaryContent = {
    diagnoses: list(input.diagnoses, 'diagnoses', (value, at) => validateCodedText(errors, value, at)),
    procedures: list(input.procedures, 'procedures', (value, at) => validateCodedText(errors, value, at)),
    hospitalCourse: optionalText(errors, input.hospitalCourse, `${path}.hospitalCourse`),
    medicationsOnDischarge: list(input.medicationsOnDischarge, 'medicationsOnDischarge', (value, at) =>
      requiredText(errors, value, at, MAX_SHORT_TEXT),
    ),
    followUp: optionalText(errors, input.followUp, `${path}.followUp`),
  };
  if (
    content.diagnoses.length === 0 &&
    content.procedures.length === 0 &&
    content.hospitalCourse === null &&
    content.medicationsOnDischarge.length === 0 &&
    content.followUp === null
  ) {
    errors.add(
      path,
      'must fill at least one of diagnoses, procedures, hospitalCourse, medicationsOnDischarge and followUp',
    );
  }
  extra?.(errors);
  errors.throwIfAny();
  return content;
}

/** Writes the DRAFT summary of an INPATIENT encounter, which has at most one summary. */
export async function createDischargeSummary(
  em: EntityManager,
  tenantId: string,
  encounterId: string,
  input: SummaryContentInput,
  now: Date,
  actor: Actor,
): Promise<DischargeSummary> {
  const content = validateSummaryContent(input, 'content');
  assertId(encounterId, 'encounterId', 'encounter');
  const encounter = await em.findOne(
    Encounter,
    { id: encounterId },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  if (!encounter) throw HmsError.notFound('Encounter', encounterId);
  if (encounter.encounterClass !== 'INPATIENT') {
    throw HmsError.conflict(
      `Encounter ${encounterId} is ${encounter.encounterClass}. Only INPATIENT stays have discharge summaries.`,
      {
        encounterClass: encounter.encounterClass,
      },
    );
  }
  if (VOIDED_STATUSES.includes(encounter.status)) {
    throw HmsError.conflict(`Encounter ${encounterId} is ${encounter.status}. It takes no summary.`, {
      status: encounter.status,
    });
  }
  const existing = await em.findOne(DischargeSummary, { encounterId }, { fields: ['id'] });
  if (existing) {
    throw HmsError.conflict(
      `Encounter ${encounterId} already has discharge summary ${existing.id}. Edit or amend it.`,
      {
        existingId: existing.id,
      },
    );
  }

  const summary = em.create(DischargeSummary, {
    id: newId(),
    tenantId,
    encounterId,
    patientId: encounter.patientId,
    status: 'DRAFT',
    authorId: actor.userId,
    currentVersion: 1,
    createdAt: now,
    updatedAt: now,
  });
  await flushOrConflict(em);
  em.create(DischargeSummaryVersion, {
    id: newId(),
    tenantId,
    summaryId: summary.id,
    version: 1,
    content,
    writtenBy: actor.userId,
    writtenAt: now,
    signed: false,
  });
  await flushOrConflict(em);
  await summaryChanged(em, tenantId, summary, 'created', actor.origin);
  return summary;
}

/** Replaces the content of a DRAFT summary. */
export async function updateDischargeSummaryDraft(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: SummaryContentInput,
  now: Date,
  actor: Actor,
): Promise<DischargeSummary> {
  const content = validateSummaryContent(input, 'content');
  const summary = await lockSummary(em, id);
  assertDraft(summary);
  const version = await em.findOneOrFail(DischargeSummaryVersion, {
    summaryId: id,
    version: summary.currentVersion,
  });
  em.assign(version, { content, writtenBy: actor.userId, writtenAt: now });
  summary.updatedAt = now;
  await flushOrConflict(em);
  await summaryChanged(em, tenantId, summary, 'updated', actor.origin, ['content']);
  return summary;
}

/** Signs a DRAFT summary. From then on it changes only by amendment. */
export async function signDischargeSummary(
  em: EntityManager,
  tenantId: string,
  id: string,
  now: Date,
  actor: Actor,
): Promise<DischargeSummary> {
  const summary = await lockSummary(em, id);
  assertDraft(summary);
  await em.nativeUpdate(
    DischargeSummaryVersion,
    { summaryId: id, version: summary.currentVersion },
    { signed: true },
  );
  em.assign(summary, { status: 'SIGNED', signedAt: now, signedBy: actor.userId, updatedAt: now });
  await flushOrConflict(em);
  await summaryChanged(em, tenantId, summary, 'signed', actor.origin, ['status', 'signedAt', 'signedBy']);
  return summary;
}

/**
 * Adds a signed version to a SIGNED summary with the amender, time and reason. Any clinician with
 * encounter:write may amend, because any of them may edit the draft. The summary exposes the amender
 * of its current version as amendedBy. Fields omitted from `input` keep the previous version's
 * content, and a field sent as null or an empty list is cleared.
 */
export async function amendDischargeSummary(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: SummaryContentInput,
  reason: string,
  now: Date,
  actor: Actor,
): Promise<DischargeSummary> {
  const summary = await lockSummary(em, id);
  if (summary.status !== 'SIGNED') {
    throw HmsError.conflict(`Discharge summary ${id} is a DRAFT. Edit it with updateDischargeSummaryDraft.`, {
      status: summary.status,
    });
  }
  const previous = await em.findOneOrFail(DischargeSummaryVersion, {
    summaryId: id,
    version: summary.currentVersion,
  });
  const merged: SummaryContentInput = { ...previous.content };
  for (const [field, value] of Object.entries(input) as [keyof SummaryContentInput, unknown][]) {
    if (value !== undefined) Object.assign(merged, { [field]: value });
  }
  let amendmentReason = '';
  const content = validateSummaryContent(merged, 'content', (errors) => {
    amendmentReason = requiredText(errors, reason, 'reason', MAX_SHORT_TEXT);
  });
  const version = summary.currentVersion + 1;
  em.create(DischargeSummaryVersion, {
    id: newId(),
    tenantId,
    summaryId: id,
    version,
    content,
    writtenBy: actor.userId,
    writtenAt: now,
    amendmentReason,
    signed: true,
  });
  em.assign(summary, { currentVersion: version, updatedAt: now });
  await flushOrConflict(em);
  await summaryChanged(em, tenantId, summary, 'amended', actor.origin, ['content']);
  return summary;
}

async function lockSummary(em: EntityManager, id: string): Promise<DischargeSummary> {
  assertId(id, 'id', 'discharge summary');
  const summary = await em.findOne(DischargeSummary, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!summary) throw HmsError.notFound(SUMMARY, id);
  return summary;
}

function assertDraft(summary: DischargeSummary): void {
  if (summary.status !== 'DRAFT') {
    throw HmsError.conflict(`Discharge summary ${summary.id} is SIGNED. Amend it instead.`, {
      status: summary.status,
    });
  }
}

async function summaryChanged(
  em: EntityManager,
  tenantId: string,
  summary: DischargeSummary,
  event: 'created' | 'updated' | 'signed' | 'amended',
  origin: EventOrigin,
  changedFields?: string[],
): Promise<void> {
  await recordChange(em, origin, tenantId, {
    type: `clinical.discharge_summary.${event}`,
    subject: { type: SUMMARY, id: summary.id },
    payloadSchema: DischargeSummaryChangedSchema,
    payload: {
      summaryId: summary.id,
      encounterId: summary.encounterId,
      patientId: summary.patientId,
      version: summary.currentVersion,
    },
    audit: {
      action: `discharge_summary.${event}`,
      operation: event === 'created' ? Operation.CREATE : Operation.UPDATE,
      patientId: summary.patientId,
      changedFields,
    },
  });
}
