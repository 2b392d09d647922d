import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** The sections of a SOAP note. A section left empty is null. */
export interface SoapValue {
  subjective: string | null;
  objective: string | null;
  assessment: string | null;
  plan: string | null;
}

/** One version of a note's content. A signed version is final: a trigger rejects its update or deletion. */
export const NoteVersion = defineEntity({
  name: 'NoteVersion',
  tableName: 'note_versions',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    noteId: p.uuid(),
    version: p.integer(),
    text: p.text().nullable(),
    soap: p.json<SoapValue>().nullable(),
    writtenBy: p.uuid(),
    writtenAt: p.datetime(),
    amendmentReason: p.text().nullable(),
    signed: p.boolean(),
  },
  filters: tenantFilters,
});

export type NoteVersion = InferEntity<typeof NoteVersion>;
