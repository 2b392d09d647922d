import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import {
  incomingTraceContext,
  normalizeIp,
  requestIdFrom,
  stripInternalHeaders,
} from './request-metadata.js';

const CLIENT_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('request metadata', () => {
  test('every x-hms-* header is removed, whatever its case', () => {
    const headers: IncomingHttpHeaders = { 'x-hms-tenant-id': 't', 'X-HMS-User-Id': 'u', accept: '*/*' };
    stripInternalHeaders(headers);
    assert.deepEqual(Object.keys(headers), ['accept']);
  });

  test('a valid client traceparent is kept', () => {
    assert.equal(incomingTraceContext({ traceparent: CLIENT_TRACEPARENT }).traceparent, CLIENT_TRACEPARENT);
  });

  test('client trace id is kept', () => {
    assert.equal(
      incomingTraceContext({ traceparent: CLIENT_TRACEPARENT }).traceId,
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });

  test('an all-zero trace id is replaced', () => {
    const context = incomingTraceContext({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` });
    assert.notEqual(context.traceId, '0'.repeat(32));
  });

  test('a created traceparent is valid and sampled', () => {
    assert.match(incomingTraceContext({}).traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test('tracestate without a valid traceparent is dropped', () => {
    assert.equal(incomingTraceContext({ traceparent: 'garbage', tracestate: 'a=1' }).tracestate, undefined);
  });

  test('an x-request-id with unexpected characters is replaced', () => {
    assert.notEqual(requestIdFrom({ 'x-request-id': 'abc\ninjected: 1' }), 'abc\ninjected: 1');
  });

  test('an IPv4 client on a dual-stack socket is written as IPv4', () => {
    assert.equal(normalizeIp('::ffff:192.0.2.7'), '192.0.2.7');
  });
});
