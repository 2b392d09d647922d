import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@hms/service-kit/config';
import { loadGatewayConfig } from './config.js';
import { readSubgraphList, SUBGRAPHS_FILE } from './subgraphs.js';

const SUBGRAPHS = [
  { name: 'identity', url: 'http://127.0.0.1:4001/graphql' },
  { name: 'clinical', url: 'http://127.0.0.1:4002/graphql' },
];

const REQUIRED = {
  HMS_REDIS_URL: 'redis://127.0.0.1:6379',
  HMS_JWKS_URL: 'http://127.0.0.1:4001/.well-known/jwks.json',
  HMS_JWT_ISSUER: 'hms-identity',
  HMS_JWT_AUDIENCE: 'hms-graph',
  HMS_IDENTITY_INTERNAL_URL: 'http://127.0.0.1:4001',
};

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadGatewayConfig(env, SUBGRAPHS);
  } catch (error) {
    return error instanceof ConfigError ? error.message : `not a ConfigError: ${String(error)}`;
  }
  return 'no error';
}

describe('gateway configuration', () => {
  test('defaults: port 4000, page size 100', () => {
    const config = loadGatewayConfig(REQUIRED, SUBGRAPHS);
    assert.deepEqual([config.port, config.limits.maxPageSize], [4000, 100]);
  });

  test('a missing variable is named', () => {
    const { HMS_JWKS_URL: _omitted, ...env } = REQUIRED;
    assert.match(configError(env), /HMS_JWKS_URL is missing/);
  });

  test('an invalid number is named', () => {
    assert.match(
      configError({ ...REQUIRED, HMS_GATEWAY_MAX_PAGE_SIZE: 'lots' }),
      /HMS_GATEWAY_MAX_PAGE_SIZE is invalid/,
    );
  });

  test('HMS_SUBGRAPH_<NAME>_URL replaces a subgraph URL', () => {
    const config = loadGatewayConfig(
      { ...REQUIRED, HMS_SUBGRAPH_CLINICAL_URL: 'http://clinical:4002/graphql' },
      SUBGRAPHS,
    );
    assert.equal(config.subgraphs.find((s) => s.name === 'clinical')?.url, 'http://clinical:4002/graphql');
  });

  test('an invalid subgraph URL override is named', () => {
    assert.match(
      configError({ ...REQUIRED, HMS_SUBGRAPH_IDENTITY_URL: 'identity' }),
      /HMS_SUBGRAPH_IDENTITY_URL is invalid/,
    );
  });

  test('introspection rejected in production', () => {
    assert.throws(
      () =>
        loadGatewayConfig(
          { ...REQUIRED, HMS_ENV: 'production', HMS_GATEWAY_DEV_INTROSPECT: 'true' },
          SUBGRAPHS,
        ),
      /HMS_GATEWAY_DEV_INTROSPECT/,
    );
  });

  test('the client address comes from the socket unless a proxy is trusted', () => {
    assert.equal(loadGatewayConfig(REQUIRED, SUBGRAPHS).trustProxy, false);
  });

  test('committed subgraph list names every service', () => {
    assert.deepEqual(
      readSubgraphList(SUBGRAPHS_FILE).map((s) => s.name),
      ['identity', 'clinical', 'scheduling', 'audit'],
    );
  });
});
