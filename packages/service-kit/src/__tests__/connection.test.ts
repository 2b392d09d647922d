import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphQLError } from 'graphql';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageSize, toConnection } from '../graphql/connection.js';

test('cursor round trip keeps the key', () => {
  const cursor = encodeCursor(['müller', 'anna', '0190']);
  assert.deepEqual(decodeCursor(cursor, 3), ['müller', 'anna', '0190']);
});

test('tampered cursor is bad input', () => {
  assert.throws(
    () => decodeCursor('not-a-cursor', 3),
    (error: GraphQLError) => error.extensions.code === 'BAD_USER_INPUT',
  );
  assert.throws(
    () => decodeCursor(encodeCursor(['a']), 3),
    (error: GraphQLError) => error.extensions.code === 'BAD_USER_INPUT',
  );
});

test('pageSize enforces the maximum', () => {
  assert.equal(pageSize(undefined), 20);
  assert.equal(pageSize(MAX_PAGE_SIZE), MAX_PAGE_SIZE);
  assert.throws(() => pageSize(MAX_PAGE_SIZE + 1), /first/);
  assert.throws(() => pageSize(-1), /first/);
});

test('toConnection detects the next page from the extra row', () => {
  const connection = toConnection([1, 2, 3], 2, 10, (row) => String(row), false);
  assert.equal(connection.edges.length, 2);
  assert.equal(connection.pageInfo.hasNextPage, true);
  assert.equal(connection.pageInfo.endCursor, '2');
  assert.equal(connection.totalCount, 10);
});
