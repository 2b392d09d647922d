import { HmsError } from '../errors.js';

/** Default and largest page sizes of Relay connections; the gateway enforces the same maximum. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Validates `first` and returns the page size to fetch. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw HmsError.badUserInput([
      { field: 'first', message: `must be an integer from 0 to ${MAX_PAGE_SIZE}` },
    ]);
  }
  return first;
}

/** Encodes the sort key of a row as an opaque cursor. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeCursor and checks that it has `length` parts. */
export function decodeCursor(
  cursor: string | null | undefined,
  length: number,
): (string | number)[] | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) &&
      key.length === length &&
      key.every((part) => typeof part === 'string' || typeof part === 'number')
    ) {
      return key;
    }
  } catch {
    // Falls through to the error below: a cursor is opaque, so any decoding failure means the same thing.
  }
  throw HmsError.badUserInput([{ field: 'after', message: 'is not a cursor returned by this list' }]);
}

/**
 * Builds a connection from rows fetched with one extra row beyond `size`, which is how the caller
 * learns whether a next page exists without a second query.
 */
export function toConnection<T>(
  rows: T[],
  size: number,
  totalCount: number,
  cursorOf: (row: T) => string,
  hasPreviousPage: boolean,
): Connection<T> {
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
