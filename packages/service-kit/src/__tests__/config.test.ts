import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, env, loadConfig } from '../config.js';

const shape = {
  HMS_PORT: env.port(),
  HMS_REDIS_URL: env.url('the Redis server'),
  HMS_BROKERS: env.list(),
};

test('loadConfig parses valid variables', () => {
  const config = loadConfig(shape, {
    HMS_PORT: '4002',
    HMS_REDIS_URL: 'redis://127.0.0.1:6379',
    HMS_BROKERS: 'a:1, b:2',
  });
  assert.equal(config.HMS_PORT, 4002);
  assert.deepEqual(config.HMS_BROKERS, ['a:1', 'b:2']);
});

test('loadConfig names every missing and invalid variable', () => {
  let caught: unknown;
  try {
    loadConfig(shape, { HMS_PORT: '70000', HMS_BROKERS: '' });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError);
  assert.equal(caught.problems.length, 3);
  assert.match(caught.message, /HMS_PORT is invalid/);
  assert.match(caught.message, /HMS_REDIS_URL is missing/);
  assert.match(caught.message, /HMS_BROKERS is missing/);
});
