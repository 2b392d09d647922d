import { Migration20261207000000CreateScheduling } from './Migration20261207000000CreateScheduling.js';
import { Migration20261212000000CompletedHoldsSlot } from './Migration20261212000000CompletedHoldsSlot.js';

/** Migrations of the scheduling schema, oldest first; a released migration is never edited, only followed. */
export const migrations = [
  Migration20261207000000CreateScheduling,
  Migration20261212000000CompletedHoldsSlot,
];

/**
 * PostgreSQL extensions the migrations rely on: btree_gist lets the exclusion constraints on
 * appointments compare tenant, practitioner and patient ids with = next to the interval's &&.
 * Provisioning creates them, as creating one needs a superuser.
 */
export const extensions = ['btree_gist'];

/** No function needs a LEAKPROOF mark: no scheduling index serves a LIKE search. */
export const leakproofFunctions: string[] = [];
