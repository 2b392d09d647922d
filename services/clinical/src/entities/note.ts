import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const NOTE_KINDS = [
  'PROGRESS',
  'SOAP',
  'NURSING',
  'ADMISSION',
  'CONSULTATION',
  'PROCEDURE',
  'OTHER',
] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

/** Status of a note or discharge summary. */
export const DOCUMENT_STATUSES = ['DRAFT', 'SIGNED'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** A clinical note of an encounter. Its content lives in note versions, and currentVersion is the latest. */
export const Note = defineEntity({
  name: 'Note',
  tableName: 'notes',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    encounterId: p.uuid(),
    patientId: p.uuid(),
    kind: p.enum(NOTE_KINDS),
    status: p.enum(DOCUMENT_STATUSES),
    authorId: p.uuid(),
    currentVersion: p.integer(),
    signedAt: p.datetime().nullable(),
    signedBy: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Note = InferEntity<typeof Note>;
