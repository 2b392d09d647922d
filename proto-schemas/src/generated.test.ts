import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

// The generated TypeScript is committed so that services type-check without a generation step.
// This test fails when a .proto file changed without a following `npm run generate`.
describe('generated code', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'hms-proto-gen-'));
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('matches what npm run generate produces from the protos', () => {
    const result = spawnSync('npm', ['run', '--silent', 'generate', '--', '--output', outDir], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const committed = join(packageDir, 'src/gen');
    const fresh = join(outDir, 'src/gen');
    assert.deepEqual(
      listFiles(committed),
      listFiles(fresh),
      'generated file list differs: run npm run generate',
    );
    for (const file of listFiles(fresh)) {
      assert.equal(
        readFileSync(join(committed, file), 'utf8'),
        readFileSync(join(fresh, file), 'utf8'),
        `src/gen/${file} is stale: run npm run generate`,
      );
    }
  });
});
