import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { ServiceTestDatabase } from '@hms/test-kit';
import { migrateTestDatabase } from '../../testing/harness.js';

// Regression: under row-level security PostgreSQL skipped the trigram index for LIKE because textlike
// was not LEAKPROOF, so every fragment search read all of the tenant's patients (about 2 s at 100,000
// patients in services/clinical/scripts/bench-search.ts). The planner's choice depends on table
// statistics, so this checks the precondition it needs: the flag that provisioning sets.
let database: ServiceTestDatabase;
let client: pg.Client;

before(async () => {
  database = await migrateTestDatabase();
  client = new pg.Client({ connectionString: database.appUrl });
  await client.connect();
});

after(async () => {
  await client?.end();
});

test('provisioning marks textlike leakproof', async () => {
  const result = await client.query(
    `select proleakproof from pg_proc where oid = 'pg_catalog.textlike(text, text)'::regprocedure`,
  );
  assert.equal(result.rows[0]?.proleakproof, true);
});
