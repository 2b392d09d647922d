import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), 'hms-proto-breaking-'));
let copies = 0;

interface Edit {
  file: string;
  from: string;
  to: string;
}

// Copies the module (buf.yaml and the protos) to a fresh folder, applies the edits, and runs the
// package's real `breaking` script against that folder instead of the package's own protos.
function checkEdited(edits: Edit[]): { status: number | null; output: string } {
  const dir = join(workDir, `copy-${copies++}`);
  cpSync(join(packageDir, 'buf.yaml'), join(dir, 'buf.yaml'));
  cpSync(join(packageDir, 'proto'), join(dir, 'proto'), { recursive: true });
  for (const { file, from, to } of edits) {
    const path = join(dir, 'proto', file);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes(from), `${file} does not contain ${JSON.stringify(from)}`);
    writeFileSync(path, text.replace(from, to));
  }
  const result = spawnSync('npm', ['run', '--silent', 'breaking', '--', dir], {
    cwd: packageDir,
    encoding: 'utf8',
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

const identity = 'hms/identity/v1/events.proto';
const clinical = 'hms/clinical/v1/events.proto';

after(() => rmSync(workDir, { recursive: true, force: true }));

describe('npm run breaking', () => {
  it('accepts the unchanged protos', () => {
    const { status, output } = checkEdited([]);
    assert.equal(status, 0, output);
  });

  it('rejects a removed field', () => {
    const { status, output } = checkEdited([
      { file: identity, from: '  repeated string changed_settings = 2;\n', to: '' },
    ]);
    assert.notEqual(status, 0);
    assert.match(
      output,
      /field "2" with name "changed_settings" on message "TenantSettingsChanged" was deleted/,
    );
  });

  it('rejects a renumbered field', () => {
    const { status, output } = checkEdited([
      { file: clinical, from: 'string mrn = 2;', to: 'string mrn = 3;' },
    ]);
    assert.notEqual(status, 0);
    assert.match(output, /field "2" with name "mrn" on message "PatientRegistered" was deleted/);
  });

  it('rejects a changed field type', () => {
    const { status, output } = checkEdited([
      { file: identity, from: 'uint32 failed_attempts = 3;', to: 'int64 failed_attempts = 3;' },
    ]);
    assert.notEqual(status, 0);
    assert.match(
      output,
      /"failed_attempts" on message "AccountLocked" changed type from "uint32" to "int64"/,
    );
  });

  // A payload's type URL is its message name, so a rename removes the type consumers decode.
  it('rejects a renamed payload message', () => {
    const { status, output } = checkEdited([
      { file: clinical, from: 'message PatientUpdated {', to: 'message PatientChanged {' },
    ]);
    assert.notEqual(status, 0);
    assert.match(output, /Previously present message "PatientUpdated" was deleted/);
  });

  it('accepts a field retired with reserved number and name', () => {
    const { status, output } = checkEdited([
      { file: clinical, from: '  string mrn = 2;\n', to: '  reserved 2;\n  reserved "mrn";\n' },
    ]);
    assert.equal(status, 0, output);
  });
});

// Without this, a field added after the last snapshot could be removed again unnoticed, because
// the check only protects what the snapshot contains.
describe('published snapshot', () => {
  it('matches the current protos', () => {
    const fresh = join(workDir, 'current.binpb');
    const result = spawnSync('npx', ['buf', 'build', '--exclude-source-info', '-o', fresh], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(
      readFileSync(join(packageDir, 'published/published.binpb')).equals(readFileSync(fresh)),
      'published/published.binpb is older than the protos: run npm run publish-snapshot',
    );
  });
});
