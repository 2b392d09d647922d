import { Migration20261204000000CreatePatients } from './Migration20261204000000CreatePatients.js';
import { Migration20261205000000AddOutbox } from './Migration20261205000000AddOutbox.js';
import { Migration20261206000000AddTenantTimeZone } from './Migration20261206000000AddTenantTimeZone.js';
import { Migration20261210000000CreateEncounters } from './Migration20261210000000CreateEncounters.js';
import { Migration20261211000000AddPatientRecords } from './Migration20261211000000AddPatientRecords.js';
import { Migration20261211000100LinkRecordsToEncounters } from './Migration20261211000100LinkRecordsToEncounters.js';
import { Migration20261212000000AddUsersAndHistoricalDosage } from './Migration20261212000000AddUsersAndHistoricalDosage.js';

/** Migrations of the clinical schema, oldest first; a released migration is never edited, only followed. */
export const migrations = [
  Migration20261204000000CreatePatients,
  Migration20261205000000AddOutbox,
  Migration20261206000000AddTenantTimeZone,
  Migration20261210000000CreateEncounters,
  Migration20261211000000AddPatientRecords,
  Migration20261211000100LinkRecordsToEncounters,
  Migration20261212000000AddUsersAndHistoricalDosage,
];

/**
 * PostgreSQL extensions the migrations rely on: pg_trgm for fragment search, btree_gin to lead that
 * trigram index with tenant_id, btree_gist for the exclusion constraint that keeps one patient per
 * bed (equality on tenant and bed with overlap of periods). Provisioning creates them, as creating one
 * needs a superuser.
 */
export const extensions = ['pg_trgm', 'btree_gin', 'btree_gist'];

/**
 * Functions provisioning marks LEAKPROOF so that the trigram index serves LIKE under row-level
 * security. textlike raises an error only for a malformed pattern, and in HMS the pattern is always
 * the search text the caller sent, never a stored column, so the mark reveals nothing about other rows.
 */
export const leakproofFunctions = ['pg_catalog.textlike(text, text)'];
