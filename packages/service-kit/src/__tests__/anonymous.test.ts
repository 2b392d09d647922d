import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, type OperationDefinitionNode } from 'graphql';
import { rootFieldNames } from '../graphql/anonymous.js';

function rootFields(source: string): string[] {
  const document = parse(source);
  const operation = document.definitions.find(
    (definition) => definition.kind === 'OperationDefinition',
  ) as OperationDefinitionNode;
  return rootFieldNames(document, operation);
}

test('root fields through fragments are found', () => {
  assert.deepEqual(rootFields('query { _service { sdl } }'), ['_service']);
  assert.deepEqual(
    rootFields(
      'query { ...F } fragment F on Query { _service { sdl } _entities(representations: []) { __typename } }',
    ),
    ['_service', '_entities'],
  );
  assert.deepEqual(rootFields('query { ... on Query { patients { totalCount } } }'), ['patients']);
});

test('aliases do not hide the field name', () => {
  assert.deepEqual(rootFields('query { _service: _entities(representations: []) { __typename } }'), [
    '_entities',
  ]);
});
