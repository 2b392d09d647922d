import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parse } from 'graphql';
import pino from 'pino';
import { startSubgraphServer } from '../server.js';

// Regression: a taken port surfaced as "Cannot read properties of null (reading 'port')".
test('taken port gives a clear error', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as AddressInfo).port;

  try {
    await assert.rejects(
      startSubgraphServer({
        name: 'probe',
        port,
        host: '127.0.0.1',
        typeDefs: parse('type Query { ping: String }'),
        resolvers: {},
        verifyToken: async () => {
          throw new Error('not used');
        },
        logger: pino({ level: 'silent' }),
        production: false,
        readiness: {},
      }),
      new RegExp(`Subgraph probe cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`),
    );
  } finally {
    blocker.close();
  }
});
