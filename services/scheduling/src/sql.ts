/**
 * Formats values as a PostgreSQL array literal, such as {"a","b"}, to bind to a `?::uuid[]` or
 * `?::text[]` parameter. The ORM's execute expands a JavaScript array parameter into a list of
 * parameters, which an `= any(...)` comparison cannot take.
 */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}
