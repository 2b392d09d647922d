import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getOperationAST, parse } from 'graphql';
import { isAnonymousOperation, rootFieldNames } from './operation.js';

function roots(query: string, operationName?: string): string[] {
  const document = parse(query);
  const operation = getOperationAST(document, operationName);
  assert.ok(operation);
  return [...rootFieldNames(document, operation)].sort();
}

describe('root fields', () => {
  test('aliases are resolved to field names', () => {
    assert.deepEqual(roots('{ login: me { id } }'), ['me']);
  });

  test('fragment spreads and inline fragments are followed', () => {
    assert.deepEqual(
      roots('query { ...A ... on Query { patients { id } } } fragment A on Query { me { id } }'),
      ['me', 'patients'],
    );
  });

  test('fields under @skip still count', () => {
    assert.deepEqual(roots('query($s: Boolean!) { __typename me @skip(if: $s) { id } }'), [
      '__typename',
      'me',
    ]);
  });

  test('only the selected operation counts', () => {
    assert.deepEqual(
      roots('mutation A { login(email: "", password: "") { accessToken } } query B { me { id } }', 'A'),
      ['login'],
    );
  });

  test('login and refreshSession alone are anonymous', () => {
    assert.equal(isAnonymousOperation(new Set(['login', 'refreshSession', '__typename'])), true);
  });

  test('an empty set is not anonymous', () => {
    assert.equal(isAnonymousOperation(new Set()), false);
  });

  test('logout needs a token', () => {
    assert.equal(isAnonymousOperation(new Set(['logout'])), false);
  });
});
