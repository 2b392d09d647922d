import { Migration20261204000000CreateIdentitySchema } from './Migration20261204000000CreateIdentitySchema.js';

/** Identity's migrations in the order they apply. */
export const identityMigrations = [Migration20261204000000CreateIdentitySchema];
