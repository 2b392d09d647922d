import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { RunningGateway } from './gateway.js';
import { call, Harness, type ReceivedRequest } from './test-support/harness.js';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

let harness: Harness;
let gateway: RunningGateway;

before(async () => {
  harness = await Harness.start();
  gateway = await harness.startGateway();
});
afterEach(() => harness.cleanKeys());
after(() => harness.close());

/** Sends `{ me { id } }` with a valid token plus `headers`, and returns what the identity subgraph received. */
async function forwarded(headers: Record<string, string> = {}, clientIp?: string): Promise<ReceivedRequest> {
  const tenant = await harness.newTenant();
  const token = await tenant.token();
  const requestId = headers['x-request-id'] ?? randomUUID();
  const answer = await call(gateway.url, {
    query: '{ me { id } }',
    token,
    headers: { 'user-agent': 'ward-tablet/2.1', ...headers, 'x-request-id': requestId },
    ...(clientIp ? { clientIp } : {}),
  });
  assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
  const received = harness.receivedFor(requestId)[0];
  assert.ok(received, 'the subgraph received no request');
  return received;
}

describe('headers sent to subgraphs', () => {
  test('the subgraph receives the Authorization header of the caller', async () => {
    const tenant = await harness.newTenant();
    const token = await tenant.token();
    const requestId = randomUUID();
    await call(gateway.url, { query: '{ me { id } }', token, headers: { 'x-request-id': requestId } });
    assert.equal(harness.receivedFor(requestId)[0]?.headers.authorization, `Bearer ${token}`);
  });

  test('a traceparent is created when the client sent none', async () => {
    const received = await forwarded();
    assert.match(String(received.headers.traceparent), TRACEPARENT);
  });

  test('traceparent and tracestate of the client are forwarded', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const received = await forwarded({ traceparent, tracestate: 'hms=1' });
    assert.equal(received.headers.traceparent, traceparent);
  });

  test('tracestate travels with the traceparent of the client', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const received = await forwarded({ traceparent, tracestate: 'hms=1' });
    assert.equal(received.headers.tracestate, 'hms=1');
  });

  test('a malformed client traceparent is replaced by a valid one', async () => {
    const received = await forwarded({ traceparent: '00-zz-not-a-trace' });
    assert.match(String(received.headers.traceparent), TRACEPARENT);
  });

  test('the x-request-id reaches the subgraph', async () => {
    const requestId = randomUUID();
    const received = await forwarded({ 'x-request-id': requestId });
    assert.equal(received.headers['x-request-id'], requestId);
  });

  test('a client-sent x-hms-tenant-id does not reach the subgraph', async () => {
    const received = await forwarded({ 'x-hms-tenant-id': randomUUID() });
    assert.equal(received.headers['x-hms-tenant-id'], undefined);
  });

  test('no client-sent x-hms-* header reaches the subgraph', async () => {
    const received = await forwarded({ 'x-hms-user-id': 'admin', 'X-HMS-Roles': 'tenant_admin' });
    const internal = Object.keys(received.headers).filter(
      (name) => name.startsWith('x-hms-') && name !== 'x-hms-client-ip' && name !== 'x-hms-user-agent',
    );
    assert.deepEqual(internal, []);
  });

  test('x-hms-client-ip is the address the gateway computed, not the one the client claims', async () => {
    const clientIp = harness.newClientIp();
    const received = await forwarded({ 'x-hms-client-ip': '10.9.9.9' }, clientIp);
    assert.equal(received.headers['x-hms-client-ip'], clientIp);
  });

  test('x-hms-user-agent carries the User-Agent of the client', async () => {
    const received = await forwarded({ 'x-hms-user-agent': 'forged' });
    assert.equal(received.headers['x-hms-user-agent'], 'ward-tablet/2.1');
  });

  test('other client headers are not forwarded', async () => {
    const received = await forwarded({ cookie: 'session=abc' });
    assert.equal(received.headers.cookie, undefined);
  });

  test('the response carries the request id', async () => {
    const requestId = randomUUID();
    const tenant = await harness.newTenant();
    const answer = await call(gateway.url, {
      query: '{ me { id } }',
      token: await tenant.token(),
      headers: { 'x-request-id': requestId },
    });
    assert.equal(answer.headers.get('x-request-id'), requestId);
  });
});
