import { Migration20261204000000CreatePatients } from './Migration20261204000000CreatePatients.js';

/** Migrations of the clinical schema, oldest first; a released migration is never edited, only followed. */
export const migrations = [Migration20261204000000CreatePatients];

/**
 * PostgreSQL extensions the migrations rely on: pg_trgm for fragment search, btree_gin to lead that
 * trigram index with tenant_id. Provisioning creates them, as creating one needs a superuser.
 */
export const extensions = ['pg_trgm', 'btree_gin'];
