import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { RunningGateway } from './gateway.js';
import { call, firstCode, Harness, type GraphQLAnswer } from './test-support/harness.js';

let harness: Harness;
let gateway: RunningGateway;
let token: string;

before(async () => {
  harness = await Harness.start();
  gateway = await harness.startGateway({
    limits: { maxDepth: 5, maxAliases: 3, maxTokens: 200, maxCost: 500, maxDirectives: 3, maxPageSize: 100 },
  });
});
afterEach(() => harness.cleanKeys());
after(() => harness.close());

async function ask(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
  const tenant = await harness.newTenant();
  token = await tenant.token();
  return call(gateway.url, {
    query,
    token,
    ...(variables ? { variables } : {}),
    ...(headers ? { headers } : {}),
  });
}

function limitOf(answer: GraphQLAnswer): unknown {
  return answer.body.errors?.[0]?.extensions?.limit;
}

/** Returns the page-size error of a response. Other limits (cost) may be reported next to it. */
function pageSizeError(answer: GraphQLAnswer) {
  return answer.body.errors?.find((error) => error.extensions?.limit === 'maxPageSize');
}

describe('query limits', () => {
  test('a query within every limit is served', async () => {
    const answer = await ask('{ patients(first: 2) { totalCount edges { node { id name } } } }');
    assert.equal(answer.body.errors, undefined);
  });

  test('a query deeper than the limit is rejected', async () => {
    const answer = await ask(
      '{ patients { edges { node { relatives { relatives { relatives { id } } } } } } }',
    );
    assert.equal(limitOf(answer), 'maxDepth');
  });

  test('a limit violation is BAD_USER_INPUT', async () => {
    const answer = await ask(
      '{ patients { edges { node { relatives { relatives { relatives { id } } } } } } }',
    );
    assert.equal(firstCode(answer), 'BAD_USER_INPUT');
  });

  test('a limit violation is answered with HTTP 400', async () => {
    const answer = await ask(
      '{ patients { edges { node { relatives { relatives { relatives { id } } } } } } }',
    );
    assert.equal(answer.status, 400);
  });

  test('a rejected query never reaches a subgraph', async () => {
    const requestId = randomUUID();
    await ask('{ patients { edges { node { relatives { relatives { relatives { id } } } } } } }', undefined, {
      'x-request-id': requestId,
    });
    assert.equal(harness.receivedFor(requestId).length, 0);
  });

  test('more aliases than the limit are rejected', async () => {
    const answer = await ask('{ a: me { id } b: me { id } c: me { id } d: me { id } }');
    assert.equal(limitOf(answer), 'maxAliases');
  });

  test('more tokens than the limit are rejected', async () => {
    const answer = await ask(`{ me { ${'id '.repeat(250)}} }`);
    assert.equal(limitOf(answer), 'maxTokens');
  });

  test('the token limit is reported as BAD_USER_INPUT', async () => {
    const answer = await ask(`{ me { ${'id '.repeat(250)}} }`);
    assert.equal(firstCode(answer), 'BAD_USER_INPUT');
  });

  test('a query costing more than the limit is rejected', async () => {
    const answer = await ask('{ patients(first: 50) { edges { node { id name } } } }');
    assert.equal(limitOf(answer), 'maxCost');
  });

  test('depth error names the limit and values', async () => {
    const answer = await ask(
      '{ patients { edges { node { relatives { relatives { relatives { id } } } } } } }',
    );
    const error = answer.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(
      error?.message,
      "The query's depth is 7, which exceeds the limit maxDepth = 5. Select fewer levels of nested fields.",
    );
  });

  test('cost error names the limit and values', async () => {
    const answer = await ask('{ patients(first: 50) { edges { node { id name } } } }');
    const error = answer.body.errors?.find((candidate) => candidate.extensions?.limit === 'maxCost');
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(
      error?.message,
      "The query's cost is 812.5, which exceeds the limit maxCost = 500. Select fewer fields or request smaller pages with first or last.",
    );
  });

  test('alias and directive errors are not syntax errors', async () => {
    const aliases = await ask('{ a: me { id } b: me { id } c: me { id } d: me { id } }');
    assert.equal(
      aliases.body.errors?.[0]?.message,
      "The query's number of aliases is 4, which exceeds the limit maxAliases = 3. Use fewer aliases.",
    );
    const directives = await ask(
      '{ me @include(if: true) { id @include(if: true) } patients @skip(if: false) { totalCount @skip(if: false) } }',
    );
    assert.equal(
      directives.body.errors?.[0]?.message,
      "The query's number of directives is 4, which exceeds the limit maxDirectives = 3. Use fewer directives.",
    );
  });

  test('token error names the limit', async () => {
    const answer = await ask(`{ me { ${'id '.repeat(250)}} }`);
    assert.equal(
      answer.body.errors?.[0]?.message,
      'The query contains more lexical tokens than the limit maxTokens = 200. Shorten the query.',
    );
  });

  test('more directives than the limit are rejected', async () => {
    const answer = await ask(
      '{ me @include(if: true) { id @include(if: true) } patients @skip(if: false) { totalCount @skip(if: false) } }',
    );
    assert.equal(limitOf(answer), 'maxDirectives');
  });
});

describe('page size', () => {
  test('first at the largest page size is served', async () => {
    const answer = await ask('{ patients(first: 100) { totalCount } }');
    assert.equal(answer.body.errors, undefined);
  });

  test('a literal first above the largest page size is BAD_USER_INPUT', async () => {
    const answer = await ask('{ patients(first: 101) { totalCount } }');
    assert.equal(pageSizeError(answer)?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('the error names the field and argument', async () => {
    const answer = await ask('{ patients(first: 500) { totalCount } }');
    assert.deepEqual(pageSizeError(answer)?.extensions?.fields, [
      { field: 'patients.first', message: 'must be at most 100, got 500' },
    ]);
  });

  test('a literal last above the largest page size is rejected', async () => {
    const answer = await ask('{ patients(last: 1000) { totalCount } }');
    assert.equal(pageSizeError(answer)?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('first passed in a variable is checked too', async () => {
    const answer = await ask('query List($n: Int) { patients(first: $n) { totalCount } }', { n: 5000 });
    assert.equal(pageSizeError(answer)?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('a variable error names the argument', async () => {
    const answer = await ask('query List($n: Int) { patients(first: $n) { totalCount } }', { n: 5000 });
    assert.match(pageSizeError(answer)?.message ?? '', /patients\.first: must be at most 100/);
  });

  test('a variable default above the largest page size is rejected', async () => {
    const answer = await ask('query List($n: Int = 1000) { patients(first: $n) { totalCount } }');
    assert.equal(pageSizeError(answer)?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('a variable within the largest page size is served', async () => {
    const answer = await ask('query List($n: Int) { patients(first: $n) { totalCount } }', { n: 20 });
    assert.equal(answer.body.errors, undefined);
  });

  test('a page size inside a fragment is checked', async () => {
    const answer = await ask(
      'query List($n: Int) { ...Page } fragment Page on Query { patients(last: $n) { totalCount } }',
      { n: 101 },
    );
    assert.equal(pageSizeError(answer)?.extensions?.code, 'BAD_USER_INPUT');
  });
});
