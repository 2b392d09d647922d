import type { Principal } from '@hms/service-kit/auth/claims';
import type { RequestContext } from '@hms/service-kit/context';
import type { TraceContext } from './request-metadata.js';

/** Request data that the gateway reads from the HTTP request before it looks at the operation. */
export interface RequestMetadata {
  requestId: string;
  /** Client address as Express derives it under the configured `trust proxy` setting. */
  clientIp: string;
  userAgent?: string;
  trace: TraceContext;
  /** The raw Authorization header; forwarded to subgraphs only after it was verified. */
  authorization?: string;
}

/**
 * Apollo Server context of one GraphQL request. A type alias rather than an interface, because the
 * gateway's data sources require a context assignable to `Record<string, any>`.
 */
export type GatewayContext = {
  request: RequestMetadata;
  /** The logging context (request, trace, tenant and user ids) of the request; filled in as they become known. */
  logContext: RequestContext;
  /**
   * Access decision: `anonymous` for operations made only of allow-listed root fields,
   * `authenticated` with `principal` set. Undefined until the operation is resolved, and stays
   * undefined when the request fails earlier (syntax or validation errors).
   */
  access?: 'anonymous' | 'authenticated';
  principal?: Principal;
};
