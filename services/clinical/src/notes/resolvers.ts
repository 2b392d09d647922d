import {
  HmsError,
  inTenantTransaction,
  requirePrincipal,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { Note, NoteKind } from '../entities/note.js';
import type { NoteVersion } from '../entities/note-version.js';
import {
  actorOf,
  ENCOUNTER_READ,
  NOTE_READ,
  NOTE_WRITE,
  NURSING_NOTE_WRITE,
  tenantWith,
  tenantWithAny,
} from '../encounters/access.js';
import { assertId } from '../encounters/common.js';
import { loadersOf } from '../encounters/loaders.js';
import {
  amendNote,
  createNote,
  signNote,
  updateNoteDraft,
  type CreateNoteInput,
  type KindPermission,
  type NoteContentInput,
} from './store.js';

/** Permissions that allow writing some note. Which kinds each allows is checked per note. */
const NOTE_WRITERS = [NOTE_WRITE, NURSING_NOTE_WRITE];

/** Resolvers of clinical notes. Reading needs note:read. Writing is checked per note kind. */
export function noteResolvers(orm: MikroORM) {
  /**
   * Returns the kind check of the caller: note:write allows every kind, nursing_note:write only
   * NURSING notes.
   */
  const permitOf =
    (context: SubgraphContext): KindPermission =>
    (kind: NoteKind) => {
      const principal = requirePrincipal(context);
      if (principal.has(NOTE_WRITE)) return;
      if (kind === 'NURSING' && principal.has(NURSING_NOTE_WRITE)) return;
      throw HmsError.forbidden(NOTE_WRITE);
    };

  const write = <T>(context: SubgraphContext, work: (em: EntityManager, tenantId: string) => Promise<T>) => {
    const tenantId = tenantWithAny(context, NOTE_WRITERS);
    return inTenantTransaction(orm, tenantId, (em) => work(em, tenantId));
  };

  return {
    Query: {
      note: (_: unknown, args: { id: string }, context: SubgraphContext) => {
        const tenantId = tenantWith(context, NOTE_READ);
        assertId(args.id, 'id', 'note');
        return loadersOf(context, orm, tenantId).note.load(args.id);
      },
    },

    Mutation: {
      createNote: (_: unknown, args: { input: CreateNoteInput }, context: SubgraphContext) =>
        write(context, (em, tenantId) =>
          createNote(em, tenantId, args.input, new Date(), actorOf(context), permitOf(context)),
        ),
      updateNoteDraft: (
        _: unknown,
        args: { id: string; content: NoteContentInput },
        context: SubgraphContext,
      ) =>
        write(context, (em, tenantId) =>
          updateNoteDraft(
            em,
            tenantId,
            args.id,
            args.content,
            new Date(),
            actorOf(context),
            permitOf(context),
          ),
        ),
      signNote: (_: unknown, args: { id: string }, context: SubgraphContext) =>
        write(context, (em, tenantId) =>
          signNote(em, tenantId, args.id, new Date(), actorOf(context), permitOf(context)),
        ),
      amendNote: (
        _: unknown,
        args: { id: string; content: NoteContentInput; reason: string },
        context: SubgraphContext,
      ) =>
        write(context, (em, tenantId) =>
          amendNote(
            em,
            tenantId,
            args.id,
            args.content,
            args.reason,
            new Date(),
            actorOf(context),
            permitOf(context),
          ),
        ),
    },

    ClinicalNote: {
      encounter: (note: Note, _: unknown, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        return loadersOf(context, orm, tenantId).encounter.load(note.encounterId);
      },
      author: (note: Note) => ({ id: note.authorId }),
      signedBy: (note: Note) => (note.signedBy ? { id: note.signedBy } : null),
      version: (note: Note) => note.currentVersion,
      amendedBy: async (note: Note, _: unknown, context: SubgraphContext) => {
        const amendment = await currentAmendment(note, context);
        return amendment ? { id: amendment.writtenBy } : null;
      },
      amendedAt: async (note: Note, _: unknown, context: SubgraphContext) =>
        (await currentAmendment(note, context))?.writtenAt ?? null,
      text: async (note: Note, _: unknown, context: SubgraphContext) =>
        (await latest(note, context))?.text ?? null,
      soap: async (note: Note, _: unknown, context: SubgraphContext) =>
        (await latest(note, context))?.soap ?? null,
      versions: (note: Note, _: unknown, context: SubgraphContext) => versionsOf(note, context),
    },

    ClinicalNoteVersion: {
      writtenBy: (version: NoteVersion) => ({ id: version.writtenBy }),
      amendmentReason: (version: NoteVersion) => version.amendmentReason ?? null,
    },
  };

  function versionsOf(note: Note, context: SubgraphContext): Promise<NoteVersion[]> {
    return loadersOf(context, orm, note.tenantId).noteVersions.load(note.id);
  }

  /** Returns the current version when it is an amendment, or undefined for version 1. */
  async function currentAmendment(note: Note, context: SubgraphContext): Promise<NoteVersion | undefined> {
    return note.currentVersion > 1 ? latest(note, context) : undefined;
  }

  async function latest(note: Note, context: SubgraphContext): Promise<NoteVersion | undefined> {
    const versions = await versionsOf(note, context);
    return versions.find((version) => version.version === note.currentVersion);
  }
}
