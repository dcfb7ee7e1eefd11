// Holder metadata beside lock files (`<lock>.holders/<pid>@<host>.json`): written once a hold
// lasts a few ms, removed on release; inspectLocks lists it with liveness; cleanStaleLocks
// removes exactly the records of dead processes (and their published waits), never a lock file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { cleanStaleLocks, FileLock, inspectLocks } from '../../src/fs/index.js';
import { holdersOf } from '../../src/fs/lock-metadata.js';
import { processStartTime } from '../../src/fs/process-info.js';
import { checkedMode } from '../support/helpers.js';
import { holderRecord, LockWorker, publishedWaitFor, registryFile, startWorkers, tempDir, until, watch, useLockSandbox } from './fixtures/lock-support.js';

useLockSandbox();

const host = hostname();

/** A pid that belonged to a process which has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(child.stdout);
  assert.ok(Number.isInteger(pid) && pid > 0, `child printed no pid: ${child.stdout} ${child.stderr}`);
  return pid;
}

/** Writes a holder record by hand, as process `pid` on `recordHost` would. */
function fakeRecord(lock: string, pid: number, recordHost: string, started: number | null = null): string {
  mkdirSync(`${lock}.holders`, { recursive: true });
  const file = join(`${lock}.holders`, `${pid}@${recordHost}.json`);
  writeFileSync(file, JSON.stringify({ lock, name: 'fake', mode: 'exclusive', pid, host: recordHost, started, since: new Date().toISOString() }));
  return file;
}

describe('holder metadata in this process', () => {
  beforeEach(checkedMode);

  it('a hold of more than a few ms records pid, host, mode, name and times; release removes the record', async () => {
    const dir = tempDir();
    const path = join(dir, 'held.lock');
    const lock = new FileLock(path, { name: 'held-lock' });
    const before = Date.now();
    const guard = await lock.lock({ mode: 'shared' });
    const record = holderRecord(path, process.pid);
    await until(() => existsSync(record), 'the holder record is written', 2_000);
    const raw = JSON.parse(readFileSync(record, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw).sort(), ['host', 'lock', 'mode', 'name', 'pid', 'since', 'started']);
    assert.equal(raw.lock, path);
    assert.equal(raw.name, 'held-lock');
    assert.equal(raw.mode, 'shared');
    assert.equal(raw.pid, process.pid);
    assert.equal(raw.host, host);
    assert.equal(raw.started, processStartTime(process.pid));
    const since = Date.parse(String(raw.since));
    assert.ok(since >= before - 1 && since <= Date.now(), `since ${String(raw.since)}`);

    const holders = holdersOf(path);
    assert.equal(holders.length, 1);
    assert.equal(holders[0]?.alive, true);
    assert.deepEqual(await inspectLocks(dir), [{ lock: path, holders }]);

    guard.release();
    assert.equal(existsSync(record), false, 'released: the record is gone at once');
    assert.deepEqual(holdersOf(path), []);
    assert.deepEqual(await inspectLocks(dir), [{ lock: path, holders: [] }]);
    assert.equal(existsSync(path), true);
  });

  it('a hold released at once writes nothing', async () => {
    const dir = tempDir();
    const path = join(dir, 'brief.lock');
    const lock = new FileLock(path);
    const probe = lock.tryLock();
    assert.ok(probe);
    probe.release();
    (await lock.lock()).release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(readdirSync(dir), ['brief.lock']);
    assert.deepEqual(await inspectLocks(dir), []);
  });

  it('inspectLocks lists only locks with holder metadata, sorted, and skips unreadable records', async () => {
    const dir = tempDir();
    const b = join(dir, 'b.lock');
    const a = join(dir, 'a.lock');
    writeFileSync(join(dir, 'plain.lock'), '');
    mkdirSync(join(dir, 'not-a-holders-dir'));
    fakeRecord(b, 4_000_001, 'elsewhere.invalid');
    fakeRecord(a, 4_000_002, 'elsewhere.invalid');
    writeFileSync(join(`${a}.holders`, 'half-written.json'), '{"pid": 12');
    writeFileSync(join(`${a}.holders`, 'no-pid.json'), '{"host": "x"}');
    writeFileSync(join(`${a}.holders`, 'notes.txt'), 'not a record');
    const locks = await inspectLocks(dir);
    assert.deepEqual(
      locks.map((info) => [info.lock, info.holders.map((holder) => holder.pid)]),
      [
        [a, [4_000_002]],
        [b, [4_000_001]],
      ],
    );
    await assert.rejects(inspectLocks(''), TypeError);
    await assert.rejects(inspectLocks(42 as never), TypeError);
  });

  it('cleanStaleLocks removes records of dead local processes only: not other hosts, not live ones, never lock files', async () => {
    const dir = tempDir();
    const lock = join(dir, 'mixed.lock');
    writeFileSync(lock, '');
    const dead = fakeRecord(lock, deadPid(), host);
    const remote = fakeRecord(lock, 4_000_003, 'elsewhere.invalid');
    const live = fakeRecord(lock, process.pid, host, processStartTime(process.pid));
    const other = join(dir, 'other.lock');
    const reused = process.platform === 'linux' ? fakeRecord(other, process.ppid, host, (processStartTime(process.ppid) ?? 0) + 1) : null;
    writeFileSync(join(`${lock}.holders`, 'garbage.json'), 'not json');

    const byPid = new Map((await inspectLocks(dir)).flatMap((info) => info.holders.map((holder) => [`${holder.pid}@${holder.host}`, holder.alive])));
    assert.equal(byPid.get(`${process.pid}@${host}`), true);
    assert.equal(byPid.get(`4000003@elsewhere.invalid`), true, 'a holder on another host cannot be proven dead');
    assert.equal([...byPid.values()].filter((alive) => !alive).length, reused === null ? 1 : 2);
    if (reused !== null) assert.equal(byPid.get(`${process.ppid}@${host}`), false, 'a live pid with another start time is a reused pid');

    const removed = await cleanStaleLocks(dir);
    assert.deepEqual(removed.sort(), [dead, ...(reused === null ? [] : [reused])].sort());
    for (const kept of [remote, live, join(`${lock}.holders`, 'garbage.json'), lock]) assert.equal(existsSync(kept), true, `${kept} was kept`);
    assert.deepEqual(await cleanStaleLocks(dir), [], 'nothing left to clean');
    await assert.rejects(cleanStaleLocks(''), TypeError);
  });
});

describe('holder metadata across processes', { timeout: 30_000 }, () => {
  beforeEach(checkedMode);

  it('inspectLocks shows live holders; after a SIGKILL the record is dead, and cleanStaleLocks removes exactly it', async () => {
    const dir = tempDir();
    const reg = tempDir('deadbolt-fl-reg-');
    const a = join(dir, 'a.lock');
    const b = join(dir, 'b.lock');
    const [victim, survivor] = (await startWorkers(2, { registry: reg })) as [LockWorker, LockWorker];
    await Promise.all([
      victim.ok({ op: 'lock', path: a, mode: 'exclusive', name: 'alpha', awaitRecord: true }),
      survivor.ok({ op: 'lock', path: b, mode: 'shared', name: 'beta', awaitRecord: true }),
    ]);

    const live = await inspectLocks(dir);
    assert.deepEqual(
      live.map(({ lock, holders }) => ({ lock, holders: holders.map(({ pid, mode, name, alive, host: h, lock: l }) => ({ pid, mode, name, alive, host: h, lock: l })) })),
      [
        { lock: a, holders: [{ pid: victim.pid, mode: 'exclusive', name: 'alpha', alive: true, host, lock: a }] },
        { lock: b, holders: [{ pid: survivor.pid, mode: 'shared', name: 'beta', alive: true, host, lock: b }] },
      ],
    );
    assert.equal(live[0]?.holders[0]?.started, processStartTime(victim.pid));

    await victim.kill('SIGKILL');
    const afterKill = await inspectLocks(dir);
    assert.deepEqual(
      afterKill.map(({ lock, holders }) => [lock, holders.map((holder) => [holder.pid, holder.alive])]),
      [
        [a, [[victim.pid, false]]],
        [b, [[survivor.pid, true]]],
      ],
    );

    const removed = await cleanStaleLocks(dir);
    assert.deepEqual(removed, [holderRecord(a, victim.pid)]);
    assert.equal(existsSync(holderRecord(b, survivor.pid)), true, 'the live holder keeps its record');
    assert.equal(existsSync(a), true, 'the lock file stays');
    assert.equal(existsSync(b), true, 'the lock file stays');
    assert.deepEqual(await inspectLocks(dir), [
      { lock: a, holders: [] },
      { lock: b, holders: holdersOf(b) },
    ]);
    assert.deepEqual(await cleanStaleLocks(dir), []);

    // The kernel freed the dead holder's lock; the live one still holds B.
    const lockA = new FileLock(a);
    const guard = lockA.tryLock();
    assert.ok(guard, 'the dead holder no longer holds A');
    guard.release();
    assert.equal(new FileLock(b).tryLock('exclusive'), null);
    // A live holder that releases removes its own record.
    await survivor.ok({ op: 'release', path: b });
    assert.equal(existsSync(holderRecord(b, survivor.pid)), false);
  });

  it('cleanStaleLocks also prunes the published waits of dead processes, and keeps those of live ones', async () => {
    const dir = tempDir();
    const reg = tempDir('deadbolt-fl-reg-');
    const previous = process.env.DEADBOLT_FS_REGISTRY;
    process.env.DEADBOLT_FS_REGISTRY = reg;
    try {
      const [a, b, c] = ['a', 'b', 'c'].map((name) => join(dir, `${name}.lock`)) as [string, string, string];
      const [holder, doomed, waiter] = (await startWorkers(3, { registry: reg })) as [LockWorker, LockWorker, LockWorker];
      await Promise.all([
        holder.ok({ op: 'lock', path: b, awaitRecord: true }),
        doomed.ok({ op: 'lock', path: a, awaitRecord: true }),
        waiter.ok({ op: 'lock', path: c, awaitRecord: true }),
      ]);
      // Both wait for B while holding a lock, so both publish their waits.
      const doomedWait = watch(doomed.request({ op: 'lock', path: b, timeout: 10_000 }));
      const liveWait = watch(waiter.request({ op: 'lock', path: b, mode: 'shared', timeout: 10_000 }));
      await publishedWaitFor(reg, doomed.pid, b);
      await publishedWaitFor(reg, waiter.pid, b);

      await doomed.kill('SIGKILL');
      await assert.rejects(doomedWait.promise, /exited/);
      assert.equal(existsSync(registryFile(reg, doomed.pid)), true, 'a killed process cannot withdraw its wait');

      const removed = await cleanStaleLocks(dir);
      assert.deepEqual(removed.sort(), [holderRecord(a, doomed.pid), registryFile(reg, doomed.pid)].sort());
      assert.equal(existsSync(registryFile(reg, waiter.pid)), true, 'a live waiter keeps its published wait');
      for (const worker of [holder, waiter]) assert.equal(existsSync(holderRecord(worker === holder ? b : c, worker.pid)), true);

      await holder.ok({ op: 'releaseAll' });
      const granted = await liveWait.promise;
      assert.ok(granted.ok, 'the live waiter gets B once it is free');
      assert.equal(existsSync(registryFile(reg, waiter.pid)), false, 'a granted wait is withdrawn');
      await waiter.ok({ op: 'releaseAll' });
    } finally {
      process.env.DEADBOLT_FS_REGISTRY = previous;
    }
  });
});
