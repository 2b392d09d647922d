import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import type { RunningGateway } from './gateway.js';
import { call, Harness } from './test-support/harness.js';

let harness: Harness;
let gateway: RunningGateway;

before(async () => {
  harness = await Harness.start();
  gateway = await harness.startGateway();
});
afterEach(() => harness.cleanKeys());
after(() => harness.close());

/** Returns a loopback URL where nothing listens (a port that was free a moment ago). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}

const endpoint = (path: string) => new URL(path, gateway.url);

describe('health and metrics', () => {
  test('/healthz answers 200', async () => {
    const response = await fetch(endpoint('/healthz'));
    assert.equal(response.status, 200);
  });

  test('/readyz answers 200 when Redis and every subgraph answer', async () => {
    const response = await fetch(endpoint('/readyz'));
    assert.equal(response.status, 200);
  });

  test('/readyz answers 503 when a subgraph is down', async () => {
    const unready = await harness.startGateway({
      subgraphs: [
        ...harness.subgraphs.filter((s) => s.name !== 'clinical'),
        { name: 'clinical', url: await deadUrl() },
      ],
    });
    const response = await fetch(new URL('/readyz', unready.url));
    assert.equal(response.status, 503);
  });

  test('/readyz names the subgraph that is down', async () => {
    const unready = await harness.startGateway({
      subgraphs: [
        ...harness.subgraphs.filter((s) => s.name !== 'clinical'),
        { name: 'clinical', url: await deadUrl() },
      ],
    });
    const report = (await (await fetch(new URL('/readyz', unready.url))).json()) as {
      checks: Record<string, { ok: boolean }>;
    };
    assert.equal(report.checks['subgraph:clinical']?.ok, false);
  });

  test('/metrics counts GraphQL operations by code', async () => {
    const tenant = await harness.newTenant();
    await call(gateway.url, { query: '{ me { id } }', token: await tenant.token() });
    const text = await (await fetch(endpoint('/metrics'))).text();
    assert.match(text, /hms_gateway_graphql_operations_total\{type="query",code="OK"\} \d+/);
  });

  test('/metrics counts subgraph requests', async () => {
    const tenant = await harness.newTenant();
    await call(gateway.url, { query: '{ me { id } }', token: await tenant.token() });
    const text = await (await fetch(endpoint('/metrics'))).text();
    assert.match(text, /hms_gateway_subgraph_requests_total\{subgraph="identity",status="200"\} \d+/);
  });

  test('a subgraph URL in the configuration replaces the one in the supergraph', async () => {
    const moved = await harness.startGateway({
      subgraphs: [
        ...harness.subgraphs.filter((s) => s.name !== 'clinical'),
        { name: 'clinical', url: await deadUrl() },
      ],
    });
    const tenant = await harness.newTenant();
    const answer = await call(moved.url, {
      query: '{ patients { totalCount } }',
      token: await tenant.token(),
    });
    assert.equal(answer.body.data, null);
  });

  test('with development introspection the graph is composed from the running subgraphs', async () => {
    const introspecting = await harness.startGateway({ supergraph: { devIntrospect: true } });
    const tenant = await harness.newTenant();
    const answer = await call(introspecting.url, {
      query: '{ patients { totalCount } }',
      token: await tenant.token(),
    });
    assert.deepEqual(answer.body.data, { patients: { totalCount: 1 } });
  });
});
