/** The JSON body of a GraphQL response. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: {
    message: string;
    path?: (string | number)[];
    extensions?: { code?: string; [key: string]: unknown };
  }[];
}

/** Posts a GraphQL operation to `url` and returns the HTTP status and parsed body. */
export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: GraphQLResponse<T> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<T> };
}

/** Returns the `extensions.code` of each error, for assertions on error codes. */
export function errorCodes(body: GraphQLResponse<unknown>): (string | undefined)[] {
  return (body.errors ?? []).map((error) => error.extensions?.code);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
