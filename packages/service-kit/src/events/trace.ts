import { randomBytes } from 'node:crypto';
import {
  context,
  createTraceState,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import { tryGetRequestContext } from '../context.js';
import { traceIdOf } from '../http/trace.js';

/** Kafka header names of the W3C trace context, the same names as the HTTP headers. */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

/** Kafka message headers as HMS writes them: one string value per name. */
export type MessageHeaders = Record<string, string>;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const tracer = trace.getTracer('@hms/service-kit/events');

/**
 * Returns the `traceparent` and `tracestate` headers of the work in progress, to store with an event
 * so that its consumers continue the same trace. The active OpenTelemetry span comes first. Without a
 * tracing SDK there is none, so the trace id of the request context is carried on with a new parent
 * id, the way the gateway starts a trace. Returns no headers when neither is known.
 */
export function currentTraceHeaders(): MessageHeaders {
  const headers: MessageHeaders = {};
  const active = context.active();
  propagation.inject(active, headers);
  if (headers[TRACEPARENT_HEADER]) return pickTraceHeaders(headers);

  // No propagator is registered without an SDK, but a span context may still be active.
  const spanContext = trace.getSpanContext(active);
  if (spanContext && isSpanContextValid(spanContext)) return formatSpanContext(spanContext);

  const traceId = tryGetRequestContext()?.traceId;
  if (traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId)) {
    return { [TRACEPARENT_HEADER]: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
  }
  return {};
}

/**
 * Returns `headers` with the trace context of the current work added, unless they already carry a
 * `traceparent` (an outbox row keeps the one of the request that wrote it, and that one must win).
 */
export function withTraceHeaders(headers: MessageHeaders = {}): MessageHeaders {
  if (headers[TRACEPARENT_HEADER]) return headers;
  return { ...headers, ...currentTraceHeaders() };
}

/**
 * Returns the OpenTelemetry context that `headers` carry. The registered propagator reads them when a
 * tracing SDK runs. Without one, the W3C `traceparent` is parsed here, so the trace id still reaches
 * the logs and any event the handler writes.
 */
export function extractTraceContext(headers: MessageHeaders): Context {
  const extracted = propagation.extract(ROOT_CONTEXT, headers);
  if (trace.getSpanContext(extracted)) return extracted;
  const spanContext = parseTraceparent(headers[TRACEPARENT_HEADER], headers[TRACESTATE_HEADER]);
  return spanContext ? trace.setSpanContext(extracted, spanContext) : extracted;
}

/** Runs `work` inside the trace context that `headers` carry, such as publishing a stored outbox row. */
export function withMessageTrace<T>(headers: MessageHeaders, work: () => T): T {
  return context.with(extractTraceContext(headers), work);
}

/**
 * Runs `work` in a consumer span that is a child of the trace in `headers`, so database spans of the
 * handler join the trace of the user action that caused the event. Without a tracing SDK the span is
 * a no-op that still carries the parent's trace id.
 */
export async function inConsumerSpan<T>(
  headers: MessageHeaders,
  topic: string,
  work: () => Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(headers);
  return tracer.startActiveSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.operation.type': 'process',
      },
    },
    parent,
    async (span) => {
      try {
        return await work();
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Returns the trace id that the `traceparent` header of a message names, or undefined. */
export function traceIdOfHeaders(headers: MessageHeaders): string | undefined {
  return traceIdOf(headers[TRACEPARENT_HEADER]);
}

function pickTraceHeaders(headers: MessageHeaders): MessageHeaders {
  const picked: MessageHeaders = {};
  for (const name of [TRACEPARENT_HEADER, TRACESTATE_HEADER]) {
    if (headers[name]) picked[name] = headers[name];
  }
  return picked;
}

function formatSpanContext(spanContext: SpanContext): MessageHeaders {
  const flags = (spanContext.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const headers: MessageHeaders = {
    [TRACEPARENT_HEADER]: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
  };
  const traceState = spanContext.traceState?.serialize();
  if (traceState) headers[TRACESTATE_HEADER] = traceState;
  return headers;
}

function parseTraceparent(traceparent: string | undefined, tracestate: string | undefined) {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim().toLowerCase()) : null;
  if (!match) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1] ?? '',
    spanId: match[2] ?? '',
    traceFlags: Number.parseInt(match[3] ?? '0', 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
