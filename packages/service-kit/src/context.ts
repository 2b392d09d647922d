import { AsyncLocalStorage } from 'node:async_hooks';

/** Identifiers of the unit of work in progress: one GraphQL request, one consumed event or one job run. */
export interface RequestContext {
  requestId: string;
  traceId?: string;
  tenantId?: string;
  userId?: string;
  sessionId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `work` with `context` as the current request context. */
export function runWithContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** Returns the current request context, or undefined outside of one. */
export function tryGetRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Returns the current request context and throws when there is none, because tenant-scoped work needs one. */
export function getRequestContext(): RequestContext {
  const context = storage.getStore();
  if (!context) throw new Error('No request context is active; wrap the work in runWithContext().');
  return context;
}

/** Returns the tenant of the current request context and throws when it has none. */
export function getTenantId(): string {
  const tenantId = getRequestContext().tenantId;
  if (!tenantId) throw new Error('The request context has no tenant; tenant-owned data cannot be reached.');
  return tenantId;
}
