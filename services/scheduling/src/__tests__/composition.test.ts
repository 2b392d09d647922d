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

describe('supergraph composition', () => {
  test('entities gain scheduling fields', () => {
    const result = composeServices([subgraph('identity'), subgraph('clinical'), subgraph('scheduling')]);
    assert.deepEqual(result.errors ?? [], []);
    const schema = buildSchema(result.supergraphSdl!);
    const patient = schema.getType('Patient');
    const user = schema.getType('User');
    const appointment = schema.getType('Appointment');

    assert.ok(isObjectType(patient));
    assert.ok(isObjectType(user));
    assert.ok(isObjectType(appointment));
    assert.ok(patient.getFields().appointments);
    assert.ok(patient.getFields().mrn);
    assert.ok(user.getFields().schedule);
    assert.ok(user.getFields().appointments);
    assert.ok(user.getFields().displayName);
  });
});
