import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Root fields that may be called without an access token. `__typename` lets load balancers and
 * clients probe the graph; everything else needs a signed-in caller.
 */
export const ANONYMOUS_ROOT_FIELDS: ReadonlySet<string> = new Set(['login', 'refreshSession', '__typename']);

/**
 * Names (not aliases) of the root fields an operation selects, following fragments. `@skip` and
 * `@include` are ignored on purpose: a field that might run counts, so a variable cannot switch an
 * anonymous operation into an authenticated one.
 */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const names = new Set<string>();
  const visited = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        names.add(selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !visited.has(name)) {
          visited.add(name);
          collect(fragment.selectionSet);
        }
      }
    }
  };
  collect(operation.selectionSet);
  return names;
}

/** True when every root field of the operation may be called anonymously. */
export function isAnonymousOperation(rootFields: ReadonlySet<string>): boolean {
  if (rootFields.size === 0) return false;
  for (const name of rootFields) if (!ANONYMOUS_ROOT_FIELDS.has(name)) return false;
  return true;
}
