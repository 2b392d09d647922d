import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { composeServices } from '@apollo/composition';
import { buildSchema, isObjectType, parse, Source } from 'graphql';

const SERVICES_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/** Reads a subgraph's SDL the way scripts/compose-supergraph.ts does: every schema file, in name order. */
function subgraph(name: string) {
  const dir = join(SERVICES_DIR, name, 'src', 'schema');
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort();
  const sdl = files.map((file) => readFileSync(join(dir, file), 'utf8')).join('\n');
  return { name, url: `http://127.0.0.1/${name}`, typeDefs: parse(new Source(sdl, `${name}/src/schema`)) };
}

// The gateway's subgraph list is the lead's to change, so this composes the audit subgraph with the
// owners of the entities it extends, as the committed supergraph will once audit is listed.
describe('supergraph composition', () => {
  test('composes with identity and clinical', () => {
    const result = composeServices([subgraph('identity'), subgraph('clinical'), subgraph('audit')]);

    assert.deepEqual(result.errors ?? [], []);
    assert.ok(result.supergraphSdl);
  });

  test('entities gain audit fields', () => {
    const result = composeServices([subgraph('identity'), subgraph('clinical'), subgraph('audit')]);
    const schema = buildSchema(result.supergraphSdl!);
    const patient = schema.getType('Patient');
    const user = schema.getType('User');

    assert.ok(isObjectType(patient));
    assert.ok(isObjectType(user));
    assert.ok(patient.getFields().accessHistory);
    assert.ok(patient.getFields().mrn);
    assert.ok(user.getFields().activity);
    assert.ok(user.getFields().displayName);
  });
});
