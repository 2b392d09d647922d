import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { rootFieldNames as collectRootFieldNames } from '@hms/service-kit/graphql/anonymous';

/**
 * Root fields that may be called without an access token. `__typename` lets load balancers and
 * clients probe the graph; everything else needs a signed-in caller.
 */
export const ANONYMOUS_ROOT_FIELDS: ReadonlySet<string> = new Set(['login', 'refreshSession', '__typename']);

/**
 * Names (not aliases) of the root fields an operation selects, following fragments. `@skip` and
 * `@include` are ignored on purpose: a field that might run counts, so a variable cannot switch an
 * anonymous operation into an authenticated one. Subgraphs apply the same rule through the kit.
 */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  return new Set(collectRootFieldNames(document, operation));
}

/** True when every root field of the operation may be called anonymously. */
export function isAnonymousOperation(rootFields: ReadonlySet<string>): boolean {
  if (rootFields.size === 0) return false;
  for (const name of rootFields) if (!ANONYMOUS_ROOT_FIELDS.has(name)) return false;
  return true;
}
