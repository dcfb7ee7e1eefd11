import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { channels, Condition, configure, DeadlockError, lockAll, LockOrderError, LockTimeoutError, Mutex } from '../../src/index.js';
import { checkedMode, inOtherFlow, rejectionOf, sleep, uniqueName } from '../support/helpers.js';

/** Collects the messages published on a channel while a test runs. */
function collect(name: string): { messages: Record<string, unknown>[]; stop: () => void } {
  const messages: Record<string, unknown>[] = [];
  const listener = (message: unknown): void => {
    messages.push(message as Record<string, unknown>);
  };
  subscribe(name, listener);
  return { messages, stop: () => unsubscribe(name, listener) };
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the heavy-work-under-lock case: the event loop cannot turn
  }
}

describe('diagnostics (checked mode)', () => {
  beforeEach(checkedMode);
  afterEach(() => configure({ holdWarnMs: 10_000, loopBlockWarnMs: 200, warnings: false }));

  it('a lock held longer than holdWarnMs is reported with where it was acquired', async () => {
    configure({ holdWarnMs: 40, stacks: 'always' });
    const events = collect(channels.longHold);
    const mutex = new Mutex({ name: uniqueName('slow-holder') });
    const guard = await mutex.lock();
    await sleep(150);
    guard.release();
    events.stop();
    const mine = events.messages.filter((message) => message.lock === mutex.label);
    assert.equal(mine.length, 1, 'reported once per acquisition');
    assert.ok((mine[0]?.heldMs as number) >= 40);
    assert.match(mine[0]?.report as string, /diagnostics\.test\.ts/);
  });

  it('a short hold is not reported', async () => {
    configure({ holdWarnMs: 100 });
    const events = collect(channels.longHold);
    const mutex = new Mutex({ name: uniqueName('quick-holder') });
    await mutex.run(() => sleep(5));
    await sleep(150);
    events.stop();
    assert.equal(events.messages.filter((message) => message.lock === mutex.label).length, 0);
  });

  it('an event loop blocked while a lock is held is reported with the lock', async () => {
    configure({ loopBlockWarnMs: 50 });
    const events = collect(channels.loopBlocked);
    const mutex = new Mutex({ name: uniqueName('heavy-work') });
    await sleep(60);
    const guard = await mutex.lock();
    busyWait(160);
    guard.release();
    await sleep(120);
    events.stop();
    const event = events.messages.find((message) => (message.locks as { lock: string }[]).some((ref) => ref.lock === mutex.label));
    assert.ok(event, `no loop-blocked event names ${mutex.label}`);
    assert.ok((event.blockedMs as number) >= 50);
    assert.match(event.report as string, /heavy-work/);
  });

  it('a lock held across a blocked stretch (still held when the loop wakes) is reported', async () => {
    configure({ loopBlockWarnMs: 50 });
    const events = collect(channels.loopBlocked);
    const mutex = new Mutex({ name: uniqueName('held-across') });
    const guard = await mutex.lock();
    await sleep(60);
    busyWait(160);
    await sleep(80);
    guard.release();
    events.stop();
    assert.ok(events.messages.some((message) => (message.locks as { lock: string }[]).some((ref) => ref.lock === mutex.label)));
  });

  it('a blocked loop with no lock held is not blamed on locks', async () => {
    configure({ loopBlockWarnMs: 50 });
    const events = collect(channels.loopBlocked);
    const mutex = new Mutex({ name: uniqueName('innocent') });
    await mutex.run(() => undefined);
    await sleep(60);
    busyWait(160);
    await sleep(80);
    events.stop();
    assert.equal(events.messages.filter((message) => (message.locks as { lock: string }[]).some((ref) => ref.lock === mutex.label)).length, 0);
  });

  it('deadlocks, order violations and timeouts are published', async () => {
    const deadlocks = collect(channels.deadlock);
    const orders = collect(channels.lockOrder);
    const timeouts = collect(channels.timeout);
    const a = new Mutex({ name: uniqueName('pubA'), rank: 1 });
    const b = new Mutex({ name: uniqueName('pubB'), rank: 2 });
    const ga = await a.lock();
    const deadlock = await rejectionOf(a.lock());
    ga.release();
    const order = await rejectionOf(b.run(() => a.run(() => undefined)));
    const gb = await b.lock();
    const timeout = await rejectionOf(inOtherFlow(() => b.lock({ timeout: 5 })));
    gb.release();
    for (const channel of [deadlocks, orders, timeouts]) channel.stop();
    assert.ok(deadlock instanceof DeadlockError && deadlocks.messages.some((message) => message.error === deadlock));
    assert.ok(order instanceof LockOrderError && orders.messages.some((message) => message.error === order && message.action === 'throw'));
    assert.ok(timeout instanceof LockTimeoutError && timeouts.messages.some((message) => message.error === timeout));
  });

  it('warn mode: a learned-order cycle is published once and printed as a process warning', async () => {
    configure({ onPotentialDeadlock: 'warn', warnings: true });
    const orders = collect(channels.lockOrder);
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const a = new Mutex({ name: uniqueName('wwA') });
    const b = new Mutex({ name: uniqueName('wwB') });
    await a.run(() => b.run(() => undefined));
    await b.run(() => a.run(() => undefined));
    await b.run(() => a.run(() => undefined));
    await sleep(10);
    process.off('warning', onWarning);
    orders.stop();
    const mine = orders.messages.filter((message) => (message.error as LockOrderError).requested.lock === a.label);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.action, 'warn');
    assert.ok(warnings.some((warning) => (warning as Error & { code?: string }).code === 'DEADBOLT_LOCK_ORDER' && warning.message.includes(b.name as string)));
  });
});

describe('where locks were acquired (checked mode, default stack policy)', () => {
  beforeEach(checkedMode);
  afterEach(() => configure({ holdWarnMs: 10_000 }));

  it('a report that cannot name a holder site turns site recording on for that class', async () => {
    configure({ holdWarnMs: 30 });
    const events = collect(channels.longHold);
    const mutex = new Mutex({ name: uniqueName('adaptive-sites') });
    const first = await mutex.lock();
    await sleep(120);
    first.release();
    const second = await mutex.lock();
    await sleep(120);
    second.release();
    events.stop();
    const mine = events.messages.filter((message) => message.lock === mutex.label);
    assert.equal(mine.length, 2);
    assert.match(mine[0]?.report as string, /from now on deadbolt records where "adaptive-sites-\d+" is acquired/);
    assert.doesNotMatch(mine[0]?.report as string, /diagnostics\.test\.ts/);
    assert.match(mine[1]?.report as string, /diagnostics\.test\.ts:\d+/, 'the second report names the site');
  });
});

describe('event and site bookkeeping (checked mode)', () => {
  beforeEach(checkedMode);
  afterEach(() => configure({ stacks: 'contended' }));

  it('a lockAll timeout is published once, and the caller gets the whole-call timeout', async () => {
    const events = collect(channels.timeout);
    const a = new Mutex({ name: uniqueName('la-a') });
    const b = new Mutex({ name: uniqueName('la-b') });
    let release!: () => void;
    const holder = inOtherFlow(async () => {
      const guard = await b.lock();
      await new Promise<void>((resolve) => (release = resolve));
      guard.release();
    });
    await sleep(5);
    const error = await rejectionOf(lockAll([a, b], { timeout: 40 }));
    release();
    await holder;
    events.stop();
    assert.ok(error instanceof LockTimeoutError);
    assert.equal(error.timeout, 40);
    assert.match(error.message, /lock 2 of 2 in lockAll/);
    assert.equal(events.messages.filter((message) => (message.error as LockTimeoutError).lock.startsWith(b.label)).length, 1);
    assert.equal(a.isLocked, false);
  });

  it('a refused condition wait is not reported later as where the guard was acquired', async () => {
    const outer = new Mutex({ name: uniqueName('cw-outer') });
    const mutex = new Mutex({ name: uniqueName('cw-mutex') });
    const condition = new Condition(mutex);
    // The mutex first, holding nothing: no contention and no new order edge, so no site recorded.
    const guard = await mutex.lock();
    const held = await outer.lock();
    const refused = await rejectionOf(condition.wait(guard));
    assert.ok(refused instanceof LockOrderError && refused.kind === 'condition-wait');
    const waitLine = /diagnostics\.test\.ts:(\d+):/.exec(refused.report)?.[1];
    assert.ok(waitLine !== undefined, 'the refusal names the wait');
    const deadlock = await rejectionOf(mutex.lock());
    assert.ok(deadlock instanceof DeadlockError);
    assert.equal(deadlock.cycle[0]?.holder.stack, undefined, 'the holder site stays unrecorded');
    assert.doesNotMatch(deadlock.report, new RegExp(`diagnostics\\.test\\.ts:${waitLine}:`));
    guard.release();
    held.release();
  });
});
