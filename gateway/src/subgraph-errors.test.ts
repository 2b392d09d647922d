import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { RunningGateway } from './gateway.js';
import { call, firstCode, Harness } from './test-support/harness.js';

const SECRET_IN_BODY = 'internal-detail-7f3a';

let harness: Harness;
let gateway: RunningGateway;
let failingSubgraph: Server;
let failingUrl: string;

before(async () => {
  harness = await Harness.start();
  // Responds to every request like a subgraph that rejected the operation with HTTP 400.
  failingSubgraph = createServer((_request, response) => {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ errors: [{ message: `rejected: ${SECRET_IN_BODY}` }] }));
  });
  await new Promise<void>((resolve) => failingSubgraph.listen(0, '127.0.0.1', resolve));
  failingUrl = `http://127.0.0.1:${(failingSubgraph.address() as AddressInfo).port}/graphql`;
  gateway = await harness.startGateway({
    environment: 'development',
    subgraphs: harness.subgraphs.map((subgraph) =>
      subgraph.name === 'clinical' ? { ...subgraph, url: failingUrl } : subgraph,
    ),
  });
});

after(async () => {
  await harness.close();
  await new Promise((resolve) => failingSubgraph.close(resolve));
});

test('subgraph HTTP 400 leaks no URL or body', async () => {
  const tenant = await harness.newTenant();
  const answer = await call(gateway.url, {
    query: '{ patients { totalCount } }',
    token: await tenant.token(),
  });
  const text = JSON.stringify(answer.body);

  assert.equal(firstCode(answer), 'INTERNAL_SERVER_ERROR', text);
  assert.equal(answer.body.errors?.[0]?.message, 'The clinical service failed with HTTP 400.', text);
  assert.doesNotMatch(text, new RegExp(SECRET_IN_BODY));
  assert.equal(text.includes(failingUrl), false, text);
  assert.equal(answer.body.errors?.[0]?.extensions?.response, undefined, text);
});
