// The limits of secure memory, each hit in a child process (fixtures/limits-child.ts):
// - RLIMIT_MEMLOCK: the tests run as root, and root (CAP_IPC_LOCK) ignores the limit, so the
//   child runs under `prlimit --memlock` with CAP_IPC_LOCK dropped by `setpriv`.
// - vm.max_map_count: it cannot be lowered without touching the system, so the child allocates
//   until deadbolt's own limit (derived from it) says no, about 15k buffers.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SecureRegion } from '../../src/secure/secure-region.js';
import { describeEnd, resultLine, runChild } from './fixtures/run-child.js';

interface ErrorInfo {
  name?: string;
  code?: string;
  message?: string;
  cause?: string | null;
}

/** The child collects garbage before it compares counts: freed regions stay mapped (and counted) until then. */
const GC = ['--expose-gc'];
const PRLIMIT = '/usr/bin/prlimit';
const SETPRIV = '/usr/bin/setpriv';
const missingTools = [PRLIMIT, SETPRIV].filter((tool) => !existsSync(tool));
const LOW_MEMLOCK = [PRLIMIT, '--memlock=65536:65536', SETPRIV, '--bounding-set=-ipc_lock', '--inh-caps=-ipc_lock'];
const noMemlockSkip = missingTools.length > 0 ? `needs ${missingTools.join(' and ')} to lower RLIMIT_MEMLOCK below what root ignores` : false;

describe('mlock limit (RLIMIT_MEMLOCK 64 KiB, CAP_IPC_LOCK dropped)', { concurrency: true, timeout: 30_000 }, () => {
  it('1 MiB fails with MlockError that names RLIMIT_MEMLOCK, ulimit and configureSecure; nothing leaks; best-effort then works', { skip: noMemlockSkip }, async () => {
    const result = await runChild('limits-child.ts', ['mlock'], { execArgv: GC, prefix: LOW_MEMLOCK, env: { DEADBOLT_MLOCK: undefined } });
    assert.equal(result.code, 0, describeEnd(result));
    const out = resultLine<{ config: string; liveBefore: number; liveAfter: number; error: ErrorInfo; secretError: ErrorInfo; bestEffortWorks: boolean; liveEnd: number }>(result.stdout);
    for (const error of [out.error, out.secretError]) {
      assert.equal(error.name, 'MlockError');
      assert.equal(error.code, 'ERR_MLOCK');
      assert.match(error.message ?? '', /cannot lock 1048576 bytes/);
      assert.match(error.message ?? '', /RLIMIT_MEMLOCK/);
      assert.match(error.message ?? '', /ulimit -l/);
      assert.match(error.message ?? '', /configureSecure\(\{ mlock: 'best-effort' \}\)/);
      assert.equal(typeof error.cause, 'string', 'the mlock failure is kept as the cause');
    }
    assert.equal(out.liveAfter, out.liveBefore, 'the failed allocation was freed (and, once collected, unmapped), not leaked');
    assert.equal(out.config, 'best-effort');
    assert.equal(out.bestEffortWorks, true, "after configureSecure({ mlock: 'best-effort' }) the same 1 MiB is allocated and usable");
    assert.equal(out.liveEnd, 1, 'only the process canary is left');
  });

  it('with DEADBOLT_MLOCK=best-effort the same 1 MiB allocation succeeds', { skip: noMemlockSkip }, async () => {
    const result = await runChild('limits-child.ts', ['alloc'], { execArgv: GC, prefix: LOW_MEMLOCK, env: { DEADBOLT_MLOCK: 'best-effort' } });
    assert.equal(result.code, 0, describeEnd(result));
    const out = resultLine<{ config: string; works: boolean; liveEnd: number }>(result.stdout);
    assert.deepEqual(out, { config: 'best-effort', works: true, liveEnd: 1 });
  });

  it('control: without the lowered limit, 1 MiB is locked with mlock required', async () => {
    const result = await runChild('limits-child.ts', ['alloc'], { execArgv: GC, env: { DEADBOLT_MLOCK: undefined } });
    assert.equal(result.code, 0, describeEnd(result));
    assert.deepEqual(resultLine(result.stdout), { config: 'required', works: true, liveEnd: 1 });
  });
});

describe('mapping limit (vm.max_map_count)', { concurrency: true, timeout: 30_000 }, () => {
  it('the limit is floor((vm.max_map_count - 4096) / 4), from /proc', { skip: existsSync('/proc/sys/vm/max_map_count') ? false : 'no /proc/sys/vm/max_map_count (not Linux)' }, () => {
    const maxMapCount = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8').trim());
    assert.equal(SecureRegion.usage.limit, Math.max(64, Math.floor((maxMapCount - 4096) / 4)));
  });

  it('allocating past the limit throws SecureMemoryLimitError; the process lives on, and frees and allocates again', async () => {
    const result = await runChild('limits-child.ts', ['map-limit'], { execArgv: GC, env: { DEADBOLT_MLOCK: undefined }, timeoutMs: 25_000 });
    assert.equal(result.code, 0, describeEnd(result));
    assert.equal(result.signal, null);
    const out = resultLine<{
      limit: number;
      allocated: number;
      liveAtLimit: number;
      liveOneFreed: number;
      error: ErrorInfo;
      secretError: ErrorInfo;
      oneMoreError: ErrorInfo | null;
      againError: ErrorInfo;
      lastWorks: boolean;
      liveCollected: number;
      afterWorks: boolean;
      liveEnd: number;
    }>(result.stdout);
    assert.equal(out.limit, SecureRegion.usage.limit);
    for (const error of [out.error, out.secretError, out.againError]) {
      assert.equal(error.name, 'SecureMemoryLimitError');
      assert.equal(error.code, 'ERR_SECURE_LIMIT');
      assert.match(error.message ?? '', /too many live secure buffers: \d+ of at most \d+|the process has \d+ memory mappings of at most \d+/);
      assert.match(error.message ?? '', /vm\.max_map_count/);
    }
    assert.equal(out.lastWorks, true, 'the last buffer below the limit is usable');
    // Which guard says no first depends on how many mappings the rest of the process uses: the
    // count of live regions, or (with many other mappings) the process's real mapping count.
    if (/too many live secure buffers/.test(out.error.message ?? '')) {
      assert.match(out.error.message ?? '', new RegExp(`${out.limit} of at most ${out.limit}`));
      assert.equal(out.liveAtLimit, out.limit, 'allocation stopped exactly at the limit');
      assert.equal(out.allocated, out.limit - 1, 'every buffer but the process canary');
      assert.equal(out.liveOneFreed, out.limit - 1, 'one destroyed (and collected) buffer is no longer counted');
      assert.equal(out.oneMoreError, null, 'which makes room for exactly one more');
    } else {
      assert.ok(out.allocated > out.limit * 0.8, `stopped by the mapping count after ${out.allocated} of ${out.limit}`);
    }
    assert.equal(out.liveCollected, 1, 'once destroyed and collected, only the process canary is counted');
    assert.equal(out.afterWorks, true, 'after destroying everything a new buffer works');
    assert.equal(out.liveEnd, 1, 'everything was freed (only the process canary is left)');
  });

  // Found as a bug while writing this test: the guard counted a region as gone once freed, but
  // sodium_free only detaches the ArrayBuffer and libsodium unmaps it in a GC finalizer, after
  // the event loop turns. A loop that allocated and destroyed without turning the event loop piled
  // up mappings with one live buffer, until mlock failed (an MlockError blaming RLIMIT_MEMLOCK),
  // or with mlock 'best-effort' mprotect (a bare "failed to lock buffer" Error and a leaked
  // region), or sodium_malloc (Node aborts). Acceptable: the cycles complete, or a
  // SecureMemoryLimitError says why they cannot.
  for (const mlock of ['required', 'best-effort']) {
    it(`allocating and destroying 20,000 buffers one at a time (one live at most; mlock ${mlock}) never ends in MlockError, a bare Error or an abort`, async () => {
      const result = await runChild('limits-child.ts', ['churn', '20000'], { execArgv: GC, env: { DEADBOLT_MLOCK: mlock }, timeoutMs: 25_000 });
      assert.equal(result.signal, null, describeEnd(result));
      assert.equal(result.code, 0, describeEnd(result));
      const out = resultLine<{ cycles: number; done: number; error: ErrorInfo | null; live: number; limit: number; recoveredError: ErrorInfo | null }>(result.stdout);
      if (out.done < out.cycles) {
        assert.equal(out.error?.code, 'ERR_SECURE_LIMIT', `after ${out.done} of ${out.cycles} cycles with ${out.live} live of ${out.limit}: ${out.error?.name}: ${out.error?.message?.split('\n')[0]}`);
      }
      assert.equal(out.live, 1, 'no region leaked: only the process canary is live');
      assert.equal(out.recoveredError, null, 'after a garbage collection, allocation works again');
    });
  }
});
