import { Migration20261204000000CreateIdentitySchema } from './Migration20261204000000CreateIdentitySchema.js';
import { Migration20261205000000AddOutbox } from './Migration20261205000000AddOutbox.js';

/** Identity's migrations in the order they apply. */
export const identityMigrations = [
  Migration20261204000000CreateIdentitySchema,
  Migration20261205000000AddOutbox,
];
