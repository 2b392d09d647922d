import type { MikroORM } from '@hms/service-kit';
import { allergyResolvers } from '../allergies/resolvers.js';
import { observationResolvers } from '../observations/resolvers.js';
import { prescriptionResolvers } from '../prescriptions/resolvers.js';
import { problemResolvers } from '../problems/resolvers.js';

type ResolverMap = Record<string, Record<string, unknown>>;

/**
 * Merges resolver maps type by type, so that several modules can add fields to Query, Mutation and
 * Patient. A field defined twice is a programming error and fails at start.
 */
export function mergeResolvers(...maps: ResolverMap[]): ResolverMap {
  const merged: ResolverMap = {};
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) {
      const target = (merged[type] ??= {});
      for (const [field, resolver] of Object.entries(fields)) {
        if (field in target) throw new Error(`The resolver ${type}.${field} is defined twice.`);
        target[field] = resolver;
      }
    }
  }
  return merged;
}

/** Resolvers of vital signs, allergies, problems and prescriptions. */
export function recordResolvers(orm: MikroORM): ResolverMap[] {
  return [
    observationResolvers(orm),
    allergyResolvers(orm),
    problemResolvers(orm),
    prescriptionResolvers(orm),
  ];
}
