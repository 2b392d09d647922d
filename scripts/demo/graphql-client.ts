/** A minimal GraphQL client for the demo scripts: posts an operation and throws on GraphQL errors. */
export class GraphQLClient {
  private token: string | undefined;

  constructor(private readonly url: string) {}

  useToken(token: string | undefined): void {
    this.token = token;
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(this.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as {
      data?: T;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    if (body.errors?.length) {
      const details = body.errors
        .map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`)
        .join('; ');
      throw new Error(`GraphQL request to ${this.url} failed: ${details}`);
    }
    if (!body.data)
      throw new Error(`GraphQL request to ${this.url} returned no data (HTTP ${response.status}).`);
    return body.data;
  }

  /** Signs in, keeps the access token for the following requests and returns it. */
  async login(input: { tenantSlug?: string; email: string; password: string }): Promise<string> {
    const data = await this.request<{ login: { accessToken: string } }>(
      'mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }',
      { input },
    );
    this.useToken(data.login.accessToken);
    return data.login.accessToken;
  }
}
