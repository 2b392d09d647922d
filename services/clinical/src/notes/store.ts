import { LockMode } from '@mikro-orm/postgresql';
import { NoteChangedSchema } from '@hms/proto-schemas';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { Encounter } from '../entities/encounter.js';
import { Note, NOTE_KINDS, type NoteKind } from '../entities/note.js';
import { NoteVersion, type SoapValue } from '../entities/note-version.js';
import {
  assertId,
  flushOrConflict,
  MAX_SHORT_TEXT,
  optionalText,
  requiredText,
} from '../encounters/common.js';
import { Operation, recordChange } from '../encounters/events.js';
import { VOIDED_STATUSES, type Actor } from '../encounters/store.js';

/**
 * Clinical notes. A DRAFT is edited in place by its author. Signing makes version 1 final, and an
 * amendment adds a signed version with the amender, time and reason. Only the author amends a note,
 * so another clinician writes a note of their own. The note_versions trigger rejects any change of a
 * signed version, so no code path can overwrite one.
 */

const NOTE = 'ClinicalNote';

export interface NoteContentInput {
  text?: string | null;
  soap?: Partial<SoapValue> | null;
}

export interface CreateNoteInput {
  encounterId: string;
  kind: NoteKind;
  content: NoteContentInput;
}

/** Decides whether the caller may write notes of a kind. The resolver passes the permission check. */
export type KindPermission = (kind: NoteKind) => void;

/** Validates note content: a SOAP note needs soap, other kinds text or soap, never both. */
export function validateContent(
  errors: InputErrors,
  kind: NoteKind,
  content: NoteContentInput,
  path: string,
): { text: string | null; soap: SoapValue | null } {
  const text = optionalText(errors, content.text, `${path}.text`);
  let soap: SoapValue | null = null;
  if (content.soap) {
    soap = {
      subjective: optionalText(errors, content.soap.subjective, `${path}.soap.subjective`),
      objective: optionalText(errors, content.soap.objective, `${path}.soap.objective`),
      assessment: optionalText(errors, content.soap.assessment, `${path}.soap.assessment`),
      plan: optionalText(errors, content.soap.plan, `${path}.soap.plan`),
    };
    if (Object.values(soap).every((section) => section === null)) {
      errors.add(`${path}.soap`, 'must fill at least one of subjective, objective, assessment and plan');
    }
  }
  if (text !== null && content.soap) errors.add(path, 'must have text or soap, not both');
  else if (kind === 'SOAP' && !content.soap) errors.add(`${path}.soap`, 'is required for a SOAP note');
  else if (text === null && !content.soap) errors.add(`${path}.text`, 'must not be empty');
  return { text, soap };
}

/** Creates a DRAFT note with its first version. */
export async function createNote(
  em: EntityManager,
  tenantId: string,
  input: CreateNoteInput,
  now: Date,
  actor: Actor,
  permit: KindPermission,
): Promise<Note> {
  permit(input.kind);
  const errors = new InputErrors();
  if (!NOTE_KINDS.includes(input.kind)) errors.add('input.kind', `must be one of ${NOTE_KINDS.join(', ')}`);
  const content = validateContent(errors, input.kind, input.content, 'input.content');
  errors.throwIfAny();
  assertId(input.encounterId, 'input.encounterId', 'encounter');

  const encounter = await em.findOne(Encounter, { id: input.encounterId });
  if (!encounter) throw HmsError.notFound('Encounter', input.encounterId);
  if (VOIDED_STATUSES.includes(encounter.status)) {
    throw HmsError.conflict(`Encounter ${encounter.id} is ${encounter.status}. It takes no notes.`, {
      status: encounter.status,
    });
  }

  const note = em.create(Note, {
    id: newId(),
    tenantId,
    encounterId: encounter.id,
    patientId: encounter.patientId,
    kind: input.kind,
    status: 'DRAFT',
    authorId: actor.userId,
    currentVersion: 1,
    createdAt: now,
    updatedAt: now,
  });
  await flushOrConflict(em);
  em.create(NoteVersion, {
    id: newId(),
    tenantId,
    noteId: note.id,
    version: 1,
    ...content,
    writtenBy: actor.userId,
    writtenAt: now,
    signed: false,
  });
  await flushOrConflict(em);
  await noteChanged(em, tenantId, note, 'created', actor.origin);
  return note;
}

/** Replaces the content of a DRAFT note. Only its author may. */
export async function updateNoteDraft(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: NoteContentInput,
  now: Date,
  actor: Actor,
  permit: KindPermission,
): Promise<Note> {
  const note = await lockNote(em, id, permit);
  assertDraftOfAuthor(note, actor, 'edit');
  const errors = new InputErrors();
  const content = validateContent(errors, note.kind, input, 'content');
  errors.throwIfAny();

  const version = await em.findOneOrFail(NoteVersion, { noteId: id, version: note.currentVersion });
  em.assign(version, { ...content, writtenAt: now });
  note.updatedAt = now;
  await flushOrConflict(em);
  await noteChanged(em, tenantId, note, 'updated', actor.origin, ['content']);
  return note;
}

/** Signs a DRAFT note. Only its author may. From then on its content changes only by amendment. */
export async function signNote(
  em: EntityManager,
  tenantId: string,
  id: string,
  now: Date,
  actor: Actor,
  permit: KindPermission,
): Promise<Note> {
  const note = await lockNote(em, id, permit);
  assertDraftOfAuthor(note, actor, 'sign');
  await em.nativeUpdate(NoteVersion, { noteId: id, version: note.currentVersion }, { signed: true });
  em.assign(note, { status: 'SIGNED', signedAt: now, signedBy: actor.userId, updatedAt: now });
  await flushOrConflict(em);
  await noteChanged(em, tenantId, note, 'signed', actor.origin, ['status', 'signedAt', 'signedBy']);
  return note;
}

/**
 * Adds a signed version to a SIGNED note with the amender, time and reason. Earlier versions stay.
 * Only the author may amend. SOAP sections omitted from `input.soap` keep the previous version's
 * text, and a section sent as null or an empty string is cleared.
 */
export async function amendNote(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: NoteContentInput,
  reason: string,
  now: Date,
  actor: Actor,
  permit: KindPermission,
): Promise<Note> {
  const note = await lockNote(em, id, permit);
  if (note.status !== 'SIGNED') {
    throw HmsError.conflict(`Note ${id} is a DRAFT. Its author edits it with updateNoteDraft.`, {
      status: note.status,
    });
  }
  if (note.authorId !== actor.userId) {
    throw HmsError.forbiddenBecause(
      `Only the author of note ${id} may amend it. Write a note of your own to add to it.`,
    );
  }
  const previous = await em.findOneOrFail(NoteVersion, { noteId: id, version: note.currentVersion });
  const errors = new InputErrors();
  const content = validateContent(errors, note.kind, withPreviousSections(input, previous), 'content');
  const amendmentReason = requiredText(errors, reason, 'reason', MAX_SHORT_TEXT);
  errors.throwIfAny();

  const version = note.currentVersion + 1;
  em.create(NoteVersion, {
    id: newId(),
    tenantId,
    noteId: id,
    version,
    ...content,
    writtenBy: actor.userId,
    writtenAt: now,
    amendmentReason,
    signed: true,
  });
  em.assign(note, { currentVersion: version, updatedAt: now });
  await flushOrConflict(em);
  await noteChanged(em, tenantId, note, 'amended', actor.origin, ['content']);
  return note;
}

/** Fills the SOAP sections that an amendment omits (undefined) from the previous version. */
function withPreviousSections(input: NoteContentInput, previous: NoteVersion): NoteContentInput {
  if (!input.soap || !previous.soap) return input;
  const sections = ['subjective', 'objective', 'assessment', 'plan'] as const;
  const soap: Partial<SoapValue> = {};
  for (const section of sections) {
    soap[section] = input.soap[section] === undefined ? previous.soap[section] : input.soap[section];
  }
  return { ...input, soap };
}

async function lockNote(em: EntityManager, id: string, permit: KindPermission): Promise<Note> {
  assertId(id, 'id', 'note');
  const note = await em.findOne(Note, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!note) throw HmsError.notFound(NOTE, id);
  permit(note.kind);
  return note;
}

function assertDraftOfAuthor(note: Note, actor: Actor, action: 'edit' | 'sign'): void {
  if (note.status !== 'DRAFT') {
    throw HmsError.conflict(`Note ${note.id} is SIGNED. Amend it instead.`, { status: note.status });
  }
  if (note.authorId !== actor.userId) {
    throw HmsError.forbiddenBecause(`Only the author of note ${note.id} may ${action} its draft.`);
  }
}

async function noteChanged(
  em: EntityManager,
  tenantId: string,
  note: Note,
  event: 'created' | 'updated' | 'signed' | 'amended',
  origin: EventOrigin,
  changedFields?: string[],
): Promise<void> {
  await recordChange(em, origin, tenantId, {
    type: `clinical.note.${event}`,
    subject: { type: NOTE, id: note.id },
    payloadSchema: NoteChangedSchema,
    payload: {
      noteId: note.id,
      encounterId: note.encounterId,
      patientId: note.patientId,
      kind: note.kind,
      version: note.currentVersion,
    },
    audit: {
      action: `note.${event}`,
      operation: event === 'created' ? Operation.CREATE : Operation.UPDATE,
      patientId: note.patientId,
      changedFields,
    },
  });
}
