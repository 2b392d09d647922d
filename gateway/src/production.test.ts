import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { GENERIC_ERROR_MESSAGE } from './errors.js';
import type { RunningGateway } from './gateway.js';
import { call, firstCode, Harness, SECRET_IN_ERROR } from './test-support/harness.js';

const TYPO = '{ patients { totalCout } }';

let harness: Harness;
let production: RunningGateway;
let development: RunningGateway;

before(async () => {
  harness = await Harness.start();
  production = await harness.startGateway({ environment: 'production' });
  development = await harness.startGateway({ environment: 'development' });
});
afterEach(() => harness.cleanKeys());
after(() => harness.close());

async function token(): Promise<string> {
  return (await harness.newTenant()).token();
}

describe('production settings', () => {
  test('introspection is rejected', async () => {
    const answer = await call(production.url, {
      query: '{ __schema { types { name } } }',
      token: await token(),
    });
    assert.equal(firstCode(answer), 'GRAPHQL_VALIDATION_FAILED');
  });

  test('__type introspection is rejected', async () => {
    const answer = await call(production.url, {
      query: '{ __type(name: "Patient") { name } }',
      token: await token(),
    });
    assert.equal(answer.body.data, undefined);
  });

  test('introspection works outside production', async () => {
    const answer = await call(development.url, {
      query: '{ __schema { queryType { name } } }',
      token: await token(),
    });
    assert.deepEqual(answer.body.data, { __schema: { queryType: { name: 'Query' } } });
  });

  test('a misspelt field gets no "Did you mean" suggestion', async () => {
    const answer = await call(production.url, { query: TYPO, token: await token() });
    assert.doesNotMatch(answer.body.errors?.[0]?.message ?? '', /Did you mean/);
  });

  test('the suggestion is there outside production, so the check above means something', async () => {
    const answer = await call(development.url, { query: TYPO, token: await token() });
    assert.match(answer.body.errors?.[0]?.message ?? '', /Did you mean "totalCount"\?/);
  });

  test('validation errors carry no stack trace', async () => {
    const answer = await call(production.url, { query: TYPO, token: await token() });
    assert.equal(answer.body.errors?.[0]?.extensions?.stacktrace, undefined);
  });

  test('subgraph errors carry no stack trace', async () => {
    const answer = await call(production.url, {
      query: '{ patient(id: "missing") { id } }',
      token: await token(),
    });
    assert.equal(answer.body.errors?.[0]?.extensions?.stacktrace, undefined);
  });

  test('subgraph errors keep their code', async () => {
    const answer = await call(production.url, {
      query: '{ patient(id: "missing") { id } }',
      token: await token(),
    });
    assert.equal(firstCode(answer), 'NOT_FOUND');
  });

  test('an unexpected error is masked as INTERNAL_SERVER_ERROR', async () => {
    const answer = await call(production.url, { query: '{ boom }', token: await token() });
    assert.equal(firstCode(answer), 'INTERNAL_SERVER_ERROR');
  });

  test('a masked error has the generic message', async () => {
    const answer = await call(production.url, { query: '{ boom }', token: await token() });
    assert.equal(answer.body.errors?.[0]?.message, GENERIC_ERROR_MESSAGE);
  });

  test('nothing of the original error reaches the client', async () => {
    const answer = await call(production.url, { query: '{ boom }', token: await token() });
    assert.doesNotMatch(JSON.stringify(answer.body), new RegExp(SECRET_IN_ERROR));
  });

  test('a masked error carries the trace id of the request', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const answer = await call(production.url, {
      query: '{ boom }',
      token: await token(),
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    assert.equal(answer.body.errors?.[0]?.extensions?.traceId, traceId);
  });

  test('a batched request is rejected', async () => {
    const response = await fetch(production.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    assert.equal(response.status, 400);
  });

  test('a batched request is rejected outside production too', async () => {
    const response = await fetch(development.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    assert.equal(response.status, 400);
  });

  test('a mutation over GET is rejected', async () => {
    const answer = await call(production.url, {
      method: 'GET',
      query: 'mutation { registerPatient(name: "Via Get") { id } }',
      token: await token(),
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(answer.status, 405);
  });

  test('a mutation over GET never reaches the subgraph', async () => {
    const requestId = randomUUID();
    await call(production.url, {
      method: 'GET',
      query: 'mutation { registerPatient(name: "Via Get") { id } }',
      token: await token(),
      headers: { 'apollo-require-preflight': 'true', 'x-request-id': requestId },
    });
    assert.equal(harness.receivedFor(requestId).length, 0);
  });

  test('GET without preflight header rejected', async () => {
    const answer = await call(production.url, {
      method: 'GET',
      query: '{ me { id } }',
      token: await token(),
    });
    assert.equal(answer.status, 400);
  });

  test('a query over GET with the preflight header is served', async () => {
    const answer = await call(production.url, {
      method: 'GET',
      query: '{ me { id } }',
      token: await token(),
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.deepEqual(answer.body.data, { me: { id: 'user-1' } });
  });

  test('form-encoded POST is rejected', async () => {
    const response = await fetch(production.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${await token()}`,
      },
      body: 'query=mutation%20%7B%20registerPatient(name%3A%22x%22)%20%7B%20id%20%7D%20%7D',
    });
    assert.equal(response.status, 400);
  });

  test('no landing page is served', async () => {
    const response = await fetch(production.url, { headers: { accept: 'text/html' } });
    assert.doesNotMatch(response.headers.get('content-type') ?? '', /text\/html/);
  });

  test('invalid JSON body gets JSON error', async () => {
    const response = await fetch(production.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    const text = await response.text();
    assert.deepEqual(
      [response.status, /at [A-Za-z.]+ \(/.test(text), text.startsWith('{')],
      [400, false, true],
    );
  });

  test('oversized body gets 413', async () => {
    const response = await fetch(production.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } } ${'#'.repeat(300_000)}` }),
    });
    assert.equal(response.status, 413);
  });
});
