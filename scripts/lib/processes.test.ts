import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const processesScript = fileURLToPath(new URL('./processes.sh', import.meta.url));

/** Tells whether `pid` runs; ps exits non-zero for a pid that is gone, and a zombie has ended too. */
function isAlive(pid: number): boolean {
  try {
    const state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return !state.startsWith('Z');
  } catch {
    return false;
  }
}

function bash(root: string, script: string): string {
  return execFileSync('bash', ['-c', `HMS_ROOT=${root}; source ${processesScript}; ${script}`], {
    encoding: 'utf8',
  });
}

// Regression: the pid file held the pid of a bash subshell, so scripts/stop reported "Stopped" while
// the services kept running as orphans.
test('stop ends the started program', () => {
  const root = mkdtempSync(join(tmpdir(), 'hms-processes-'));
  try {
    bash(root, 'hms_start_process sleeper sleep 300');
    const pid = Number(readFileSync(join(root, '.local/run/sleeper.pid'), 'utf8'));
    const command = execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    assert.equal(command, 'sleep');

    bash(root, 'hms_stop_process sleeper');

    assert.equal(isAlive(pid), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
