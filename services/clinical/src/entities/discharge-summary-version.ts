import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';
import type { CodeSystem } from './diagnosis.js';

/** A coded concept with its display text, or free text alone (codeSystem and code null). */
export interface CodedTextValue {
  codeSystem: CodeSystem | null;
  code: string | null;
  text: string;
}

/** The content of a discharge summary version. */
export interface SummaryContent {
  diagnoses: CodedTextValue[];
  procedures: CodedTextValue[];
  hospitalCourse: string | null;
  medicationsOnDischarge: string[];
  followUp: string | null;
}

/** One version of a discharge summary's content. A signed version is final: a trigger rejects its update or deletion. */
export const DischargeSummaryVersion = defineEntity({
  name: 'DischargeSummaryVersion',
  tableName: 'discharge_summary_versions',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    summaryId: p.uuid(),
    version: p.integer(),
    content: p.json<SummaryContent>(),
    writtenBy: p.uuid(),
    writtenAt: p.datetime(),
    amendmentReason: p.text().nullable(),
    signed: p.boolean(),
  },
  filters: tenantFilters,
});

export type DischargeSummaryVersion = InferEntity<typeof DischargeSummaryVersion>;
