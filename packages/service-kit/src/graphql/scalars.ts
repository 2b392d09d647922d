import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Tells whether `value` is a real calendar date written as YYYY-MM-DD (2023-02-29 is not). */
export function isLocalDate(value: string): boolean {
  const match = LOCAL_DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Literals in the query text are passed with their `node`, so the validation error carries its
 * location and the subgraph server can name the argument that contains it.
 */
function parseLocalDate(value: unknown, node?: ValueNode): string {
  if (typeof value !== 'string' || !isLocalDate(value)) {
    throw new GraphQLError(`LocalDate must be a calendar date as YYYY-MM-DD, got ${JSON.stringify(value)}.`, {
      nodes: node,
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value;
}

/** A calendar date without time or zone, such as a birth date. */
export const LocalDateScalar = new GraphQLScalarType<string, string>({
  name: 'LocalDate',
  description: 'A calendar date without a time zone, as YYYY-MM-DD.',
  serialize: (value) => (value instanceof Date ? value.toISOString().slice(0, 10) : parseLocalDate(value)),
  parseValue: parseLocalDate,
  parseLiteral: (ast) => parseLocalDate(ast.kind === Kind.STRING ? ast.value : undefined, ast),
});

/**
 * RFC 3339 date-time in upper case. The seconds may be left out (ISO 8601 allows `10:00Z`, and
 * clients send it). Fractions beyond milliseconds are accepted but truncated, since `Date` keeps
 * milliseconds only.
 */
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function invalidDateTime(message: string, node: ValueNode | undefined): GraphQLError {
  return new GraphQLError(message, { nodes: node, extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * Parses an RFC 3339 date-time into an instant. The date must exist in the calendar, the time must be
 * 00:00 to 23:59:59 (24:00 and leap seconds are rejected), and the offset at most ±23:59. `Date`
 * alone would roll 2026-02-30 over to 2026-03-02.
 */
function parseDateTime(value: unknown, node?: ValueNode): Date {
  // An explicit offset is required so that a client's local time is never taken for UTC.
  const match = typeof value === 'string' ? DATE_TIME.exec(value) : null;
  if (!match) {
    throw invalidDateTime(
      `DateTime must be RFC 3339 (YYYY-MM-DDThh:mm:ss with Z or a ±hh:mm time zone offset), got ${JSON.stringify(value)}.`,
      node,
    );
  }

  const [, day, hourText, minuteText, secondText, fraction, sign, offsetHourText, offsetMinuteText] = match;
  const [hour, minute, second] = [Number(hourText), Number(minuteText), Number(secondText ?? 0)];
  const [offsetHour, offsetMinute] = [Number(offsetHourText ?? 0), Number(offsetMinuteText ?? 0)];
  if (!isLocalDate(day!) || hour > 23 || minute > 59 || second > 59 || offsetHour > 23 || offsetMinute > 59) {
    throw invalidDateTime(
      `DateTime ${JSON.stringify(value)} is not a real date and time: the date must exist and the time must be 00:00:00 to 23:59:59.`,
      node,
    );
  }

  const milliseconds = Number((fraction ?? '').padEnd(3, '0').slice(0, 3));
  const offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  const [year, month, dayOfMonth] = day!.split('-').map(Number) as [number, number, number];
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, dayOfMonth);
  local.setUTCHours(hour, minute, second, milliseconds);
  const date = new Date(local.getTime() - offsetMinutes * 60_000);

  // Round trip: the instant shifted back by the offset must show the same wall-clock time.
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  if (
    Number.isNaN(date.getTime()) ||
    shifted.toISOString().slice(0, 19) !== local.toISOString().slice(0, 19)
  ) {
    throw invalidDateTime(`DateTime ${JSON.stringify(value)} is not a representable instant.`, node);
  }
  return date;
}

/** An instant, serialized in UTC. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in ISO 8601, serialized in UTC.',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime value is not a valid instant.');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined, ast),
});

/** Resolvers for the scalars every HMS subgraph declares. */
export const scalarResolvers = { LocalDate: LocalDateScalar, DateTime: DateTimeScalar };
