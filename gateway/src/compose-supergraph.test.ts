/** Tests of `scripts/compose-supergraph.ts`, on throwaway repository layouts in a temporary folder. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { composeSupergraph, main } from '../../scripts/compose-supergraph.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Writes a repository layout with the given SDL files per service. */
function layout(files: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'hms-compose-'));
  roots.push(root);
  mkdirSync(join(root, 'gateway'));
  writeFileSync(
    join(root, 'gateway', 'subgraphs.json'),
    JSON.stringify(
      Object.keys(files).map((name, i) => ({ name, url: `http://127.0.0.1:${4001 + i}/graphql` })),
    ),
  );
  for (const [service, sdlFiles] of Object.entries(files)) {
    const dir = join(root, 'services', service, 'src', 'schema');
    mkdirSync(dir, { recursive: true });
    for (const [file, sdl] of Object.entries(sdlFiles)) writeFileSync(join(dir, file), sdl);
  }
  return root;
}

const VALID = {
  identity: { 'user.graphql': `${LINK}\ntype Query { me: User }\ntype User @key(fields: "id") { id: ID! }` },
  clinical: {
    'a-patient.graphql': `${LINK}\ntype Query { patient(id: ID!): Patient }`,
    'b-types.graphql':
      'type Patient @key(fields: "id") { id: ID! registeredBy: User }\ntype User @key(fields: "id", resolvable: false) { id: ID! }',
  },
};

/** Runs the command line with console output captured. */
function run(argv: string[]): { code: number; stderr: string } {
  const lines: string[] = [];
  const original = { error: console.error, log: console.log };
  console.error = (...args: unknown[]) => lines.push(args.join(' '));
  console.log = () => {};
  try {
    return { code: main(argv), stderr: lines.join('\n') };
  } finally {
    Object.assign(console, original);
  }
}

describe('compose-supergraph', () => {
  test('all .graphql files of a service are joined into one subgraph', () => {
    const outcome = composeSupergraph(layout(VALID));
    assert.match(outcome.supergraphSdl ?? '', /registeredBy: User/);
  });

  test('the supergraph records each subgraph URL', () => {
    const outcome = composeSupergraph(layout(VALID));
    assert.match(
      outcome.supergraphSdl ?? '',
      /CLINICAL @join__graph\(name: "clinical", url: "http:\/\/127\.0\.0\.1:4002\/graphql"\)/,
    );
  });

  test('writing creates gateway/supergraph.graphql', () => {
    const root = layout(VALID);
    run(['--root', root]);
    assert.equal(
      readFileSync(join(root, 'gateway', 'supergraph.graphql'), 'utf8'),
      composeSupergraph(root).supergraphSdl,
    );
  });

  test('--check passes on a fresh file', () => {
    const root = layout(VALID);
    run(['--root', root]);
    assert.equal(run(['--root', root, '--check']).code, 0);
  });

  test('--check fails on a stale file and says what to run', () => {
    const root = layout(VALID);
    run(['--root', root]);
    writeFileSync(
      join(root, 'services', 'identity', 'src', 'schema', 'more.graphql'),
      'extend type Query { version: String }',
    );
    const result = run(['--root', root, '--check']);
    assert.deepEqual(
      [result.code, result.stderr.includes('gateway/supergraph.graphql is stale; run npm run supergraph')],
      [1, true],
    );
  });

  test('--check fails when the file is missing', () => {
    assert.equal(run(['--root', layout(VALID), '--check']).code, 1);
  });

  test('composition errors are printed with their codes', () => {
    const root = layout({
      ...VALID,
      // Query.me is resolved by both subgraphs without @shareable.
      clinical: { 'x.graphql': `${LINK}\ntype Query { me: User }\ntype User @key(fields: "id") { id: ID! }` },
    });
    const result = run(['--root', root, '--check']);
    assert.match(result.stderr, /INVALID_FIELD_SHARING: /);
  });

  test('a failed composition exits non-zero and writes nothing', () => {
    const root = layout({ ...VALID, clinical: { 'x.graphql': `${LINK}\ntype Query { me: Int }` } });
    const result = run(['--root', root]);
    assert.deepEqual(
      [result.code, readFileIfAny(join(root, 'gateway', 'supergraph.graphql'))],
      [1, undefined],
    );
  });

  test('a syntax error names the file', () => {
    const root = layout({ ...VALID, clinical: { 'broken.graphql': 'type Patient {' } });
    assert.match(run(['--root', root, '--check']).stderr, /services\/clinical\/src\/schema\/broken\.graphql/);
  });

  test('a service without SDL files is reported', () => {
    const root = layout({ ...VALID, clinical: {} });
    assert.match(run(['--root', root, '--check']).stderr, /clinical: no \*\.graphql files/);
  });
});

function readFileIfAny(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
