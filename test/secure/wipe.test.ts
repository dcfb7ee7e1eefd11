import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const fixture = new URL('./fixtures/wipe-child.ts', import.meta.url).pathname;

describe('wiping, verified in process memory', { skip: process.platform !== 'linux' && 'reads /proc/self/mem (Linux)' }, () => {
  it('a destroyed LockedBuffer and a closed Secret leave no copy of their bytes in the process', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line !== undefined, child.stdout);
    const result = JSON.parse(line.slice('RESULT '.length)) as Record<'buffer' | 'secret', { during: number; after: number }>;
    for (const kind of ['buffer', 'secret'] as const) {
      assert.ok(result[kind].during >= 1, `${kind}: the scan finds the bytes while they are readable (control): ${line}`);
      assert.equal(result[kind].after, 0, `${kind}: no copy of the bytes is left after destroy/close: ${line}`);
    }
  });
});
