import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphQLError } from 'graphql';
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

test('DateTime accepts real instants', () => {
  const cases: Array<[input: string, expected: string]> = [
    ['2028-02-29T10:00:00Z', '2028-02-29T10:00:00.000Z'],
    ['2026-02-10T23:59:59Z', '2026-02-10T23:59:59.000Z'],
    ['2026-02-10T00:00:00Z', '2026-02-10T00:00:00.000Z'],
    ['2026-03-01T01:30:00+05:30', '2026-02-28T20:00:00.000Z'],
    ['2026-12-31T20:00:00-04:00', '2027-01-01T00:00:00.000Z'],
    ['2026-02-10T10:00:00.5Z', '2026-02-10T10:00:00.500Z'],
    ['2026-02-10T10:00:00.123Z', '2026-02-10T10:00:00.123Z'],
    ['2026-02-10T10:00:00.123456789Z', '2026-02-10T10:00:00.123Z'],
    ['2027-06-07T15:00Z', '2027-06-07T15:00:00.000Z'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(DateTimeScalar.serialize(DateTimeScalar.parseValue(input)), expected, input);
  }
});

test('DateTime rejects impossible dates and times', () => {
  const cases = [
    '2026-02-30T10:00:00Z',
    '2027-02-29T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-00-10T10:00:00Z',
    '2026-02-10T24:00:00Z',
    '2026-02-10T23:60:00Z',
    '2026-02-10T23:59:60Z',
    '2026-02-10T10:00:00+24:00',
    '2026-02-10T10:00:00+05:60',
  ];
  for (const input of cases) {
    assert.throws(
      () => DateTimeScalar.parseValue(input),
      (error: GraphQLError) =>
        error.extensions.code === 'BAD_USER_INPUT' && error.message.includes(JSON.stringify(input)),
      input,
    );
  }
});

test('DateTime rejects malformed text', () => {
  const cases = [
    '2026-02-10',
    '2026-02-10 10:00:00Z',
    '2026-02-10T10:00:00.Z',
    '2026-02-10T10:00:00+0530',
    'yesterday',
    42,
  ];
  for (const input of cases) {
    assert.throws(() => DateTimeScalar.parseValue(input), /DateTime must be RFC 3339/, String(input));
  }
});
