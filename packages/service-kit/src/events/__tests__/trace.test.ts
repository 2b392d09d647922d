// Trace headers without a tracing SDK, the default when OTEL_EXPORTER_OTLP_ENDPOINT is unset: the
// trace id must still travel from the request through the outbox and Kafka to the consumer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { runWithContext } from '../../context.js';
import { currentTraceHeaders, extractTraceContext, traceIdOfHeaders, withTraceHeaders } from '../trace.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace headers without an SDK', () => {
  test('stored traceparent is kept when publishing', () => {
    const headers = withTraceHeaders({ traceparent: TRACEPARENT, tracestate: 'hms=1', other: 'x' });
    assert.deepEqual(headers, { traceparent: TRACEPARENT, tracestate: 'hms=1', other: 'x' });
  });

  test('request context trace id becomes the traceparent', () => {
    const headers = runWithContext({ requestId: 'r', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }, () =>
      currentTraceHeaders(),
    );
    assert.match(headers.traceparent ?? '', /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  test('no trace known adds no headers', () => {
    assert.deepEqual(withTraceHeaders({ other: 'x' }), { other: 'x' });
    assert.deepEqual(
      runWithContext({ requestId: 'r' }, () => currentTraceHeaders()),
      {},
    );
  });

  test('traceparent of a message is extracted as the remote parent', () => {
    const spanContext = trace.getSpanContext(
      extractTraceContext({ traceparent: TRACEPARENT, tracestate: 'hms=1' }),
    );
    assert.equal(spanContext?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(spanContext?.spanId, '00f067aa0ba902b7');
    assert.equal(spanContext?.isRemote, true);
    assert.equal(spanContext?.traceState?.get('hms'), '1');
    assert.equal(traceIdOfHeaders({ traceparent: TRACEPARENT }), '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('malformed traceparent is ignored', () => {
    assert.equal(trace.getSpanContext(extractTraceContext({ traceparent: 'garbage' })), undefined);
    assert.equal(
      trace.getSpanContext(extractTraceContext({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })),
      undefined,
    );
  });
});
