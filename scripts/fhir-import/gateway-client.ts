// A small GraphQL-over-HTTP client for the HMS gateway, made for batch jobs:
// it logs in, keeps the session fresh, and retries what is worth retrying.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from './bundles.js';

export interface GraphQLErrorBody {
  message: string;
  /** The response path of a field error, starting with the root field's alias. */
  path?: (string | number)[];
  extensions?: { code?: string; fields?: unknown; [key: string]: unknown };
}

/** The response of an operation whose root fields may fail one by one, such as a batch of mutations. */
export interface PartialResult<T> {
  /** Null when a failed non-null root field nulled the whole response. */
  data: T | null;
  /** Field errors, each with the path of its root field. */
  errors: GraphQLErrorBody[];
}

/** An error the gateway returned, or an HTTP or network failure that outlasted the retries. */
export class GatewayError extends Error {
  constructor(
    message: string,
    /** `extensions.code` of the first GraphQL error, `HTTP_<status>` or `NETWORK_ERROR`. */
    readonly code: string,
    /** `extensions.fields` of a BAD_USER_INPUT error. */
    readonly fields?: unknown,
    /** All `extensions` of the first GraphQL error, such as `existingId` of a CONFLICT. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export interface Credentials {
  tenantSlug: string;
  email?: string;
  phone?: string;
  password: string;
}

export interface GatewayClientOptions {
  url: string;
  credentials: Credentials;
  /** Attempts per request, the first one included. */
  maxAttempts?: number;
  /** First back-off delay. Each retry doubles it, with full jitter, up to `maxRetryDelayMs`. */
  retryBaseDelayMs?: number;
  maxRetryDelayMs?: number;
  requestTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RequestOptions {
  /**
   * Called before each retry. A mutation whose attempt failed may still have
   * been applied, so the caller needs to know that more than one was sent.
   */
  onRetry?: () => void;
}

interface Session {
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch, or NaN when the gateway sent no usable expiresAt. */
  expiresAt: number;
}

const SESSION_FIELDS = 'accessToken refreshToken expiresAt user { id }';

/**
 * Builds the login mutation with only the given input fields. The input is
 * written inline so that the operation does not depend on the name the
 * identity subgraph gives its input type, and an absent email or phone is
 * left out rather than sent as null.
 */
function loginOperation(fields: string[]): string {
  const definitions = fields.map((field) => `$${field}: String!`).join(', ');
  const input = fields.map((field) => `${field}: $${field}`).join(', ');
  return `mutation ImportLogin(${definitions}) { login(input: { ${input} }) { ${SESSION_FIELDS} } }`;
}
const REFRESH = `mutation ImportRefreshSession($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { ${SESSION_FIELDS} } }`;

// Codes after which the same request may succeed later. Apollo Server reports
// an unexpected resolver error, such as a dropped database connection, as
// INTERNAL_SERVER_ERROR, so that code is retried too.
const RETRYABLE_CODES = new Set(['NETWORK_ERROR', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR', 'HTTP_429']);
/** Waits for a rate-limit window per request before its attempts count again: about an hour at 60 s windows. */
const MAX_RATE_LIMIT_WAITS = 60;
/** Rate-limit waits between two log lines, as many concurrent requests meet the limit together. */
const RATE_LIMIT_NOTICE_EVERY = 50;
// A token this close to its expiry is renewed before it is sent.
const EXPIRY_MARGIN_MS = 10_000;

export class GatewayClient {
  private session: Session | undefined;
  private renewal: Promise<void> | undefined;
  private rateLimitNotices = 0;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly options: GatewayClientOptions) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.log = options.log ?? (() => {});
  }

  /** Logs in with the credentials; throws GatewayError when the gateway rejects them. */
  async login(): Promise<void> {
    const { tenantSlug, email, phone, password } = this.options.credentials;
    const variables: Record<string, string> = { tenantSlug, password };
    if (email) variables.email = email;
    if (phone) variables.phone = phone;
    const data = await this.execute<{ login: unknown }>(loginOperation(Object.keys(variables)), variables);
    this.session = toSession(data.login, 'login');
  }

  /**
   * Sends an operation with the session's access token and returns `data`.
   * Renews the session once per request when the gateway returns
   * UNAUTHENTICATED, and throws GatewayError for every other GraphQL error.
   */
  async request<T>(
    query: string,
    variables: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<T> {
    return this.authorized<T>(query, variables, options, false);
  }

  /**
   * Sends an operation like `request`, but returns the errors of single root
   * fields with the data instead of throwing, so that one failed mutation of
   * a batch does not hide the outcome of the others. Errors of the whole
   * request, such as UNAUTHENTICATED or an invalid document, still throw.
   * Field errors are not retried, because the other fields were applied.
   */
  async requestPartial<T>(query: string, variables: Record<string, unknown>): Promise<PartialResult<T>> {
    return this.authorized<PartialResult<T>>(query, variables, {}, true);
  }

  private async authorized<T>(
    query: string,
    variables: Record<string, unknown>,
    options: RequestOptions,
    partial: boolean,
  ): Promise<T> {
    if (!this.session) await this.login();
    let renewed = false;
    for (;;) {
      const session = this.session as Session;
      if (session.expiresAt - Date.now() < EXPIRY_MARGIN_MS) {
        await this.renewSession(session);
        renewed = true;
      }
      const token = (this.session as Session).accessToken;
      try {
        return await this.execute<T>(query, variables, token, options.onRetry, partial);
      } catch (error) {
        if (!(error instanceof GatewayError) || error.code !== 'UNAUTHENTICATED' || renewed) throw error;
        await this.renewSession(this.session as Session, token);
        renewed = true;
      }
    }
  }

  /**
   * Replaces the session through refreshSession, or by logging in again when
   * the refresh token is no longer accepted. Concurrent callers share one
   * renewal, and a caller whose token was already replaced renews nothing.
   */
  private async renewSession(seen: Session, rejectedToken?: string): Promise<void> {
    if (this.renewal) return this.renewal;
    if (!this.session || this.session !== seen) return;
    if (rejectedToken !== undefined && this.session.accessToken !== rejectedToken) return;
    this.renewal = (async () => {
      try {
        const data = await this.execute<{ refreshSession: unknown }>(REFRESH, {
          refreshToken: seen.refreshToken,
        });
        this.session = toSession(data.refreshSession, 'refreshSession');
        this.log('access token renewed through refreshSession');
      } catch (error) {
        if (
          !(error instanceof GatewayError) ||
          (error.code !== 'UNAUTHENTICATED' && error.code !== 'BAD_USER_INPUT')
        ) {
          throw error;
        }
        this.log(`refreshSession rejected (${error.message}); logging in again`);
        await this.login();
      }
    })();
    try {
      await this.renewal;
    } finally {
      this.renewal = undefined;
    }
  }

  /** Posts one operation, retrying network errors, HTTP 5xx and 429, RATE_LIMITED and INTERNAL_SERVER_ERROR. */
  private async execute<T>(
    query: string,
    variables: Record<string, unknown>,
    token?: string,
    onRetry?: () => void,
    partial = false,
  ): Promise<T> {
    let rateLimitWaits = 0;
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        return await this.post<T>(query, variables, token, (ms) => (retryAfterMs = ms), partial);
      } catch (error) {
        if (!(error instanceof GatewayError) || !isRetryable(error)) throw error;
        // The gateway rejects a rate-limited request before running it, so
        // waiting out the window costs no attempt. A long import meets the
        // per-user limit once a window.
        if (isRateLimited(error) && retryAfterMs !== undefined && rateLimitWaits < MAX_RATE_LIMIT_WAITS) {
          rateLimitWaits++;
          attempt--;
          this.rateLimitNotices++;
          if (this.rateLimitNotices % RATE_LIMIT_NOTICE_EVERY === 1) {
            this.log(
              `${error.code}: ${error.message}; waiting ${retryAfterMs} ms (notice ${this.rateLimitNotices})`,
            );
          }
          await sleep(Math.min(retryAfterMs + Math.random() * 250, 60_000));
          continue;
        }
        if (attempt >= this.maxAttempts) throw error;
        const backoff =
          Math.random() * Math.min(this.maxRetryDelayMs, this.retryBaseDelayMs * 2 ** (attempt - 1));
        const delay = Math.min(Math.max(backoff, retryAfterMs ?? 0), 60_000);
        this.log(
          `${error.code}: ${error.message}; retry ${attempt}/${this.maxAttempts - 1} in ${Math.round(delay)} ms`,
        );
        onRetry?.();
        await sleep(delay);
      }
    }
  }

  private async post<T>(
    query: string,
    variables: Record<string, unknown>,
    token: string | undefined,
    onRetryAfter: (ms: number) => void,
    partial: boolean,
  ): Promise<T> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      body = await response.text();
    } catch (error) {
      throw new GatewayError(describeFetchError(error), 'NETWORK_ERROR');
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    if (Number.isFinite(retryAfter) && retryAfter > 0) onRetryAfter(retryAfter * 1000);

    let payload: { data?: T | null; errors?: GraphQLErrorBody[] } | undefined;
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      payload = undefined;
    }
    const errors = payload?.errors ?? [];
    const fieldErrorsOnly = errors.every((error) => Array.isArray(error.path) && error.path.length > 0);
    if (partial && response.ok && payload && fieldErrorsOnly && (errors.length > 0 || payload.data)) {
      return { data: payload.data ?? null, errors } as T;
    }
    const firstError = errors[0];
    if (firstError) {
      // A GraphQL error code is more specific than the HTTP status, so it
      // wins. Without one, 401, 429 and 5xx still map to codes of their own.
      const code = firstError.extensions?.code ?? codeForStatus(response.status) ?? 'GRAPHQL_ERROR';
      throw new GatewayError(firstError.message, code, firstError.extensions?.fields, firstError.extensions);
    }
    if (!response.ok || !payload?.data) {
      throw new GatewayError(
        `HTTP ${response.status} from ${this.options.url}: ${body.slice(0, 200)}`,
        codeForStatus(response.status) ?? `HTTP_${response.status}`,
      );
    }
    return payload.data;
  }
}

function codeForStatus(status: number): string | undefined {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 429 || status >= 500) return `HTTP_${status}`;
  return undefined;
}

function isRateLimited(error: GatewayError): boolean {
  return error.code === 'RATE_LIMITED' || error.code === 'HTTP_429';
}

function isRetryable(error: GatewayError): boolean {
  return RETRYABLE_CODES.has(error.code) || /^HTTP_5\d\d$/.test(error.code);
}

function toSession(value: unknown, field: string): Session {
  const session = value as Partial<Record<keyof Session, unknown>> | null;
  if (typeof session?.accessToken !== 'string' || typeof session.refreshToken !== 'string') {
    throw new GatewayError(`${field} returned no tokens`, 'INVALID_RESPONSE');
  }
  return {
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    expiresAt: toEpochMs(session.expiresAt),
  };
}

function toEpochMs(value: unknown): number {
  if (typeof value === 'string') return Date.parse(value);
  // Numbers below 1e12 would be before 2001 in milliseconds, so they are seconds.
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  return Number.NaN;
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'request timed out';
  // fetch reports the socket error (ECONNREFUSED, ECONNRESET) as the cause.
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? errorMessage(error);
}
