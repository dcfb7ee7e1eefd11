// Secure memory is no-access outside callbacks, and read-only where it should be: a forbidden
// touch kills the process with SIGSEGV (there is no JS exception), so each case runs in a child
// (fixtures/crash-child.ts). The child prints TOUCH right before the forbidden access; the
// assertions check that it got that far, died by the signal, and never printed the secret.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { describeEnd, runChild, type ChildResult } from './fixtures/run-child.js';

/** The secret the child uses (fixtures/crash-child.ts). */
const SECRET = 'CORRECT-HORSE-BATTERY-STAPLE-7f3a9c';
const FAULTS: readonly string[] = ['SIGSEGV', 'SIGBUS'];

/** No core dump from the deliberate faults (where prlimit exists; it execs node, same pid). */
const NO_CORE = existsSync('/usr/bin/prlimit') ? ['/usr/bin/prlimit', '--core=0'] : undefined;

const crash = (scenario: string): Promise<ChildResult> => runChild('crash-child.ts', [scenario], { prefix: NO_CORE });

function assertFaulted(result: ChildResult): void {
  assert.ok(result.signal !== null && FAULTS.includes(result.signal), `expected death by SIGSEGV/SIGBUS, got ${describeEnd(result)}`);
  assert.match(result.stdout, /^TOUCH$/m, 'the child reached the forbidden access');
  assert.doesNotMatch(result.stdout, /SURVIVED/);
  assert.ok(!result.stdout.includes(SECRET), 'the secret never reached stdout');
}

describe('secure memory faults (child processes)', { concurrency: true, timeout: 30_000 }, () => {
  it('control: inside the callback the child reads the secret and lives (so the checks below can see a leak)', async () => {
    const result = await crash('control');
    assert.equal(result.code, 0, describeEnd(result));
    assert.equal(result.signal, null);
    assert.ok(result.stdout.includes(`READ length=${SECRET.length} text=${SECRET}`), describeEnd(result));
    assert.match(result.stdout, /SURVIVED/);
  });

  it('reading a LockedBuffer view kept after a synchronous callback returned kills the process', async () => {
    assertFaulted(await crash('after-callback'));
  });

  it('reading a view kept after an async callback settled kills the process', async () => {
    const result = await crash('after-async-callback');
    assertFaulted(result);
    assert.match(result.stdout, new RegExp(`INSIDE length=${SECRET.length}`), 'the view was readable across an await inside the callback');
  });

  it('writing through the view of a frozen buffer, inside the callback, kills the process', async () => {
    const result = await crash('frozen-write');
    assertFaulted(result);
    assert.match(result.stdout, /INSIDE first=67/, 'reading a frozen buffer is fine');
  });

  it('control: after melt() the same write is allowed and persists', async () => {
    const result = await crash('melted-write');
    assert.equal(result.code, 0, describeEnd(result));
    assert.match(result.stdout, /SURVIVED first=65/);
  });

  it('reading a Secret view kept after the callback kills the process', async () => {
    assertFaulted(await crash('secret-after-callback'));
  });

  // After destroy()/close() the memory is wiped and sodium_free detaches its ArrayBuffer, so a
  // saved view has length 0: reading it faults on nothing and finds nothing. The property that
  // matters is the same as above (nothing of the secret can be read); the mechanism differs.
  it("a destroyed LockedBuffer's saved view is detached: empty, and no byte of the secret is readable", async () => {
    const result = await crash('after-destroy');
    assert.equal(result.code, 0, describeEnd(result));
    assert.match(result.stdout, /^READ length=0 text=$/m);
    assert.ok(!result.stdout.includes(SECRET));
  });

  it("a closed Secret's saved view is detached: empty, and no byte of the secret is readable", async () => {
    const result = await crash('secret-after-close');
    assert.equal(result.code, 0, describeEnd(result));
    assert.match(result.stdout, /^READ length=0 text=$/m);
    assert.ok(!result.stdout.includes(SECRET));
  });
});
