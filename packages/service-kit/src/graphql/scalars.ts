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

function parseDateTime(value: unknown, node?: ValueNode): Date {
  // An explicit offset is required so that a client's local time is never taken for UTC.
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  ) {
    throw new GraphQLError(
      `DateTime must be ISO 8601 with a time zone offset, got ${JSON.stringify(value)}.`,
      { nodes: node, extensions: { code: 'BAD_USER_INPUT' } },
    );
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime ${JSON.stringify(value)} is not a real instant.`, {
      nodes: node,
      extensions: { code: 'BAD_USER_INPUT' },
    });
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
