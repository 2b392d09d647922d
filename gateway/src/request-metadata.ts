import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isSpanContextValid, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';

/** Prefix of the headers the gateway sets for the subgraphs. A client must never be able to set them. */
export const INTERNAL_HEADER_PREFIX = 'x-hms-';

/**
 * Removes every client-sent `x-hms-*` header. Subgraphs trust these headers because only the gateway
 * sets them, so they are dropped before any other code can read them.
 */
export function stripInternalHeaders(headers: IncomingHttpHeaders): void {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase().startsWith(INTERNAL_HEADER_PREFIX)) delete headers[name];
  }
}

/** W3C trace context to forward: `traceparent`, and `tracestate` when there is one. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
  traceId: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZEROS = /^0+$/;
/** The W3C limit is 32 list members of at most 256 characters; 512 characters keeps headers small. */
const MAX_TRACESTATE_LENGTH = 512;

/** Formats an OpenTelemetry span context as a `traceparent` value. */
function fromSpanContext(span: SpanContext): TraceContext {
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const tracestate = span.traceState?.serialize();
  return {
    traceparent: `00-${span.traceId}-${span.spanId}-${flags}`,
    traceId: span.traceId,
    ...(tracestate ? { tracestate } : {}),
  };
}

/** Returns the trace context of the active OpenTelemetry span, if tracing is set up and a span is active. */
export function activeSpanTraceContext(): TraceContext | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? fromSpanContext(span) : undefined;
}

/**
 * Decides the trace context of an incoming request. An active OpenTelemetry span wins, because it is
 * the gateway's own span and already continues the client's trace. Without tracing, a valid client
 * `traceparent` is forwarded unchanged, because the gateway records no span that a new parent id
 * could point to. Otherwise a new trace is started, sampled so that subgraphs with tracing keep it.
 */
export function incomingTraceContext(headers: IncomingHttpHeaders): TraceContext {
  const active = activeSpanTraceContext();
  if (active) return active;

  const traceparent = single(headers.traceparent)?.trim().toLowerCase();
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (traceparent && match && !ALL_ZEROS.test(match[1]!) && !ALL_ZEROS.test(match[2]!)) {
    const tracestate = single(headers.tracestate)?.trim();
    return {
      traceparent,
      traceId: match[1]!,
      ...(tracestate && tracestate.length <= MAX_TRACESTATE_LENGTH ? { tracestate } : {}),
    };
  }
  const traceId = randomBytes(16).toString('hex');
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a client's `x-request-id` when it is a plain token, so logs can be matched with the client's; else makes one. */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const given = single(headers['x-request-id'])?.trim();
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

const MAX_USER_AGENT_LENGTH = 512;

export function userAgentFrom(headers: IncomingHttpHeaders): string | undefined {
  const value = single(headers['user-agent']);
  return value ? value.slice(0, MAX_USER_AGENT_LENGTH) : undefined;
}

/** Writes IPv4 clients as IPv4 even on a dual-stack socket, so one client has one rate-limit bucket. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
