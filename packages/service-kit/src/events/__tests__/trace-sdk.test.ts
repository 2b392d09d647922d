// Trace headers with a tracing SDK registered, as in a service started with OTLP export: the event
// carries the span of the request that wrote it, and the consumer's span is that span's child.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { trace, type SpanContext } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { currentTraceHeaders, inConsumerSpan } from '../trace.js';

interface FinishedSpan {
  name: string;
  spanContext(): SpanContext;
  parentSpanContext?: SpanContext;
}

describe('trace headers with an SDK', () => {
  const finished: FinishedSpan[] = [];
  let sdk: NodeSDK;

  before(() => {
    sdk = new NodeSDK({
      serviceName: 'kit-events-trace-test',
      instrumentations: [],
      spanProcessors: [
        {
          onStart: () => undefined,
          onEnd: (span: FinishedSpan) => void finished.push(span),
          forceFlush: async () => undefined,
          shutdown: async () => undefined,
        },
      ],
    });
    sdk.start();
  });

  after(async () => {
    await sdk?.shutdown();
  });

  test('consumer span continues the trace of the writing request', async () => {
    const tracer = trace.getTracer('kit-events-trace-test');
    const { headers, request } = tracer.startActiveSpan('POST /graphql', (span) => {
      const written = currentTraceHeaders();
      span.end();
      return { headers: written, request: span.spanContext() };
    });
    assert.equal(headers.traceparent, `00-${request.traceId}-${request.spanId}-01`);

    const inside = await inConsumerSpan(headers, 'hms.clinical.events.v1', async () =>
      trace.getActiveSpan()?.spanContext(),
    );

    const consumerSpan = finished.find((span) => span.name === 'hms.clinical.events.v1 process');
    assert.ok(consumerSpan, 'the consumer span was recorded');
    assert.equal(consumerSpan.spanContext().traceId, request.traceId);
    assert.equal(consumerSpan.parentSpanContext?.spanId, request.spanId);
    assert.equal(
      inside?.spanId,
      consumerSpan.spanContext().spanId,
      'the handler runs inside the consumer span',
    );
  });
});
