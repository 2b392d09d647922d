import { Migration20261205000000CreateAuditSchema } from './Migration20261205000000CreateAuditSchema.js';
import { Migration20261205010000AddAppliedEvents } from './Migration20261205010000AddAppliedEvents.js';

/** Migrations of the audit schema, oldest first; a released migration is never edited, only followed. */
export const migrations = [Migration20261205000000CreateAuditSchema, Migration20261205010000AddAppliedEvents];
