import type { MikroORM } from '@hms/service-kit';
import { dischargeSummaryResolvers } from '../discharge-summaries/resolvers.js';
import { noteResolvers } from '../notes/resolvers.js';
import { wardResolvers } from '../wards/resolvers.js';
import { encounterResolvers } from './resolvers.js';

type ResolverMap = Record<string, unknown>;

/**
 * Merges resolver maps type by type, so that several areas can add fields to Query, Mutation or
 * Patient. Two maps resolving the same field of a type is a programming error and fails at start.
 */
export function mergeResolvers(...maps: ResolverMap[]): ResolverMap {
  const merged: Record<string, unknown> = {};
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map)) {
      const existing = merged[typeName];
      if (existing === undefined || typeof fields !== 'object' || fields === null || isScalar(fields)) {
        merged[typeName] = fields;
        continue;
      }
      for (const field of Object.keys(fields)) {
        if (field in (existing as object)) throw new Error(`Two resolver maps resolve ${typeName}.${field}.`);
      }
      merged[typeName] = { ...(existing as object), ...fields };
    }
  }
  return merged;
}

function isScalar(value: object): boolean {
  return value.constructor?.name === 'GraphQLScalarType';
}

/** Resolvers of encounters, wards and beds, notes and discharge summaries. */
export function encounterAreaResolvers(orm: MikroORM): ResolverMap {
  return mergeResolvers(
    encounterResolvers(orm),
    wardResolvers(orm),
    noteResolvers(orm),
    dischargeSummaryResolvers(orm),
  );
}
