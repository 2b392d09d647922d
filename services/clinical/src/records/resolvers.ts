import type { MikroORM } from '@hms/service-kit';
import { allergyResolvers } from '../allergies/resolvers.js';
import { mergeResolvers } from '../encounters/index.js';
import { observationResolvers } from '../observations/resolvers.js';
import { prescriptionResolvers } from '../prescriptions/resolvers.js';
import { problemResolvers } from '../problems/resolvers.js';

/** Resolvers of vital signs, allergies, problems and prescriptions, merged type by type. */
export function recordResolvers(orm: MikroORM) {
  return mergeResolvers(
    observationResolvers(orm),
    allergyResolvers(orm),
    problemResolvers(orm),
    prescriptionResolvers(orm),
  );
}
