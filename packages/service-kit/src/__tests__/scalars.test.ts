import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTimeScalar, isLocalDate, LocalDateScalar } from '../graphql/scalars.js';

test('isLocalDate accepts real dates only', () => {
  assert.equal(isLocalDate('2024-02-29'), true);
  assert.equal(isLocalDate('2023-02-29'), false);
  assert.equal(isLocalDate('2024-13-01'), false);
  assert.equal(isLocalDate('2024-1-01'), false);
});

test('LocalDate rejects other formats', () => {
  assert.equal(LocalDateScalar.parseValue('1990-05-17'), '1990-05-17');
  assert.throws(() => LocalDateScalar.parseValue('17/05/1990'), /YYYY-MM-DD/);
});

test('DateTime requires an offset', () => {
  assert.throws(() => DateTimeScalar.parseValue('2024-05-01T10:00:00'), /time zone offset/);
  const parsed = DateTimeScalar.parseValue('2024-05-01T12:00:00+02:00');
  assert.equal(DateTimeScalar.serialize(parsed), '2024-05-01T10:00:00.000Z');
});
