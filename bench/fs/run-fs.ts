/**
 * Benchmarks of deadbolt/fs against its peers, side by side in one run:
 *
 * 1. FileLock lock+unlock vs proper-lockfile (ops/s), fast mode and checked mode.
 * 2. Recovery after the holder is SIGKILLed: how long a waiting process takes to get the lock.
 * 3. Store update throughput, 1 and 4 processes, vs lowdb and a hand-rolled
 *    proper-lockfile + write-file-atomic loop, with lost updates counted.
 * 4. 100 concurrent coalesced updates vs 100 sequential lowdb writes.
 * 5. Store.get() from the cache, next to fs.statSync.
 *
 * Every measurement runs in child processes (plain `node` on the .mjs files beside this one, no
 * tsx), which import deadbolt from the built dist/fs.js with DEADBOLT_CHECKS=off, except the
 * checked-mode FileLock row. Contenders are interleaved in rounds (round-robin, a different
 * starting point each round), and the figures are medians. Nothing here is hard-coded: every
 * figure in the markdown comes from the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { now, SEED_KEYS, seedData, writeSeedFile } from './common.mjs';
import { fmtCount, fmtMs, fmtOps, fmtRatio, median, rotate, spread, table } from '../stats.js';
import { measuredEnv, runJsonChild } from '../child.js';

export interface FsCriterion {
  name: string;
  pass: boolean;
  detail: string;
}

export interface FsBenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

const fsDir = dirname(fileURLToPath(import.meta.url));
const root = join(fsDir, '..', '..');
const distFs = join(root, 'dist', 'fs.js');
const script = (name: string): string => join(fsDir, name);

// ---------------------------------------------------------------------------------------------
// Settings

interface Settings {
  lockRounds: number;
  lockSamples: number;
  lockTargetMs: number;
  lockWarmupMs: number;
  recoveryTrials: number;
  storeRounds: number;
  storeUpdates1: number;
  storeUpdates4: number;
  storeWarmup: number;
  storeMaxMs: number;
  burstRounds: number;
  burstTrials: number;
  burstWarmup: number;
  getRounds: number;
  getSamples: number;
  getTargetMs: number;
  getWarmupMs: number;
}

/** The settings of a run, and the built deadbolt it measures (a snapshot of dist/, see snapshotDist). */
interface Run extends Settings {
  distUrl: string;
  indexUrl: string;
}

function settings(quick: boolean): Settings {
  return quick
    ? {
        lockRounds: 1,
        lockSamples: 2,
        lockTargetMs: 20,
        lockWarmupMs: 40,
        recoveryTrials: 2,
        storeRounds: 1,
        storeUpdates1: 100,
        storeUpdates4: 50,
        storeWarmup: 10,
        storeMaxMs: 5_000,
        burstRounds: 1,
        burstTrials: 2,
        burstWarmup: 1,
        getRounds: 1,
        getSamples: 1,
        getTargetMs: 20,
        getWarmupMs: 40,
      }
    : {
        lockRounds: 5,
        lockSamples: 3,
        lockTargetMs: 150,
        lockWarmupMs: 300,
        recoveryTrials: 9,
        storeRounds: 3,
        storeUpdates1: 600,
        storeUpdates4: 300,
        storeWarmup: 100,
        storeMaxMs: 15_000,
        burstRounds: 3,
        burstTrials: 7,
        burstWarmup: 2,
        getRounds: 3,
        getSamples: 5,
        getTargetMs: 100,
        getWarmupMs: 200,
      };
}

const GROUP = 100;
/** Store contenders issue this many concurrent updates at a time (bench 4 uses the same number). */
const BURST_SIZE = 100;
const RECOVERY_LIMIT_MS = 50;
const LOCK_RATIO = 50;
const BURST_RATIO = 10;

// ---------------------------------------------------------------------------------------------
// Child processes

type Checks = 'on' | 'off';

/** deadbolt's stderr reports, by code, over the whole run; and other stderr lines, shown as they come. */
class Diagnostics {
  readonly codes = new Map<string, number>();
  loads: number[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Records the 1-minute load average (read before each measurement). */
  load(): void {
    this.loads.push(os.loadavg()[0] ?? NaN);
  }

  stderr(label: string, text: string): void {
    for (const code of text.match(/\[DEADBOLT_[A-Z_]+\]/g) ?? []) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    const other = text
      .split('\n')
      .filter((l) => l.trim() !== '' && !/\[DEADBOLT_|^\s|^Move |^\(Use `node --trace-warnings/.test(l))
      .join('\n');
    if (other !== '') this.log(`[${label}] stderr:\n${other}`);
  }
}

function childEnv(checks: Checks): NodeJS.ProcessEnv {
  return measuredEnv(checks);
}

/** Runs a child to completion and parses the last line of its stdout as JSON. */
async function runJson<T>(diag: Diagnostics, label: string, file: string, args: readonly string[], checks: Checks = 'off'): Promise<T> {
  const { result, stderr } = await runJsonChild<T>(`${label}: ${file}`, [script(file), ...args], childEnv(checks), root);
  diag.stderr(label, stderr);
  return result;
}

interface Message {
  type: string;
  [key: string]: unknown;
}

/** A child driven over IPC: `next(type)` resolves with its next message of that type. */
class IpcChild {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  readonly #queue: Message[] = [];
  readonly #waiters: { type: string; resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  #exit: Error | null = null;

  constructor(
    readonly label: string,
    file: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, [script(file), ...args], { cwd: root, env: childEnv('off'), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child.stdout!.setEncoding('utf8').on('data', () => undefined);
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
    this.child.on('message', (message: Message) => {
      const at = this.#waiters.findIndex((w) => w.type === message.type);
      if (at >= 0) this.#waiters.splice(at, 1)[0]!.resolve(message);
      else this.#queue.push(message);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#exit = new Error(`${label}: the child exited (code ${String(code)}, signal ${String(signal)}) before sending the expected message\n${this.#stderr}`);
        for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#exit);
        resolve({ code, signal });
      });
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Whether a message of `type` has arrived and not been taken yet. */
  has(type: string): boolean {
    return this.#queue.some((m) => m.type === type);
  }

  next(type: string, timeoutMs = 60_000): Promise<Message> {
    const at = this.#queue.findIndex((m) => m.type === type);
    if (at >= 0) return Promise.resolve(this.#queue.splice(at, 1)[0]!);
    if (this.#exit !== null) return Promise.reject(this.#exit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no '${type}' message within ${timeoutMs} ms\n${this.#stderr}`)), timeoutMs);
      this.#waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  send(message: Message): void {
    this.child.send(message);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function tempDir(name: string): string {
  return mkdtempSync(join(os.tmpdir(), `deadbolt-bench-fs-${name}-`));
}

// ---------------------------------------------------------------------------------------------
// 1. FileLock lock+unlock

interface LockLoopResult {
  contender: string;
  mode: string;
  env: string | null;
  opsPerSample: number;
  samples: { ops: number; ms: number; opsPerSec: number }[];
}

const LOCK_CONTENDERS = [
  { id: 'deadbolt-fast', label: 'deadbolt FileLock (fast, DEADBOLT_CHECKS=off)', child: 'deadbolt', checks: 'off', mode: 'fast', op: '`const g = await lock.lock(); g.release();`' },
  { id: 'deadbolt-checked', label: 'deadbolt FileLock (checked, DEADBOLT_CHECKS=on)', child: 'deadbolt', checks: 'on', mode: 'checked', op: 'the same, checked mode' },
  { id: 'proper-lockfile', label: 'proper-lockfile 4', child: 'proper-lockfile', checks: 'off', mode: 'n/a', op: '`const release = await lockfile.lock(file, { realpath: false }); await release();`' },
] as const;
type LockId = (typeof LOCK_CONTENDERS)[number]['id'];

async function benchLock(s: Run, diag: Diagnostics, log: (line: string) => void): Promise<{ markdown: string; criterion: FsCriterion }> {
  const perRound = new Map<LockId, number[]>(LOCK_CONTENDERS.map((c) => [c.id, []]));
  const all = new Map<LockId, number[]>(LOCK_CONTENDERS.map((c) => [c.id, []]));
  for (let round = 0; round < s.lockRounds; round++) {
    for (const c of rotate(LOCK_CONTENDERS, round, s.lockRounds)) {
      const dir = tempDir('lock');
      try {
        diag.load();
        const config = { distUrl: s.distUrl, indexUrl: s.indexUrl, dir, samples: s.lockSamples, targetMs: s.lockTargetMs, warmupMs: s.lockWarmupMs };
        const result = await runJson<LockLoopResult>(diag, c.id, 'lock-loop.mjs', [c.child, JSON.stringify(config)], c.checks);
        if (result.mode !== c.mode) throw new Error(`${c.id}: expected mode ${c.mode}, the child reports ${result.mode}`);
        if (result.env !== c.checks) throw new Error(`${c.id}: DEADBOLT_CHECKS is ${String(result.env)}, expected ${c.checks}`);
        const values = result.samples.map((x) => x.opsPerSec);
        all.get(c.id)!.push(...values);
        perRound.get(c.id)!.push(median(values));
        log(`[lock ${round + 1}/${s.lockRounds}] ${c.id.padEnd(17)} ${fmtOps(median(values)).padStart(8)} ops/s (samples: ${values.map(fmtOps).join(', ')}; ${fmtCount(result.opsPerSample)} ops/sample)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const med = (id: LockId): number => median(all.get(id)!);
  const proper = med('proper-lockfile');
  const rows = LOCK_CONTENDERS.map((c) => {
    const ops = med(c.id);
    return [c.label, fmtOps(ops), (1e6 / ops).toFixed(2), spread(perRound.get(c.id)!, ops), fmtRatio(ops / proper)];
  });
  const fast = med('deadbolt-fast');
  const held = perRound.get('deadbolt-fast')!.filter((v, r) => v >= LOCK_RATIO * perRound.get('proper-lockfile')![r]!).length;
  const markdown = `## deadbolt/fs: FileLock lock + unlock, uncontended

A sequential loop of lock + unlock on one lock file, one contender per process, ${s.lockRounds} round(s).

${table(['Contender', 'Median ops/s', 'µs/op', 'Round spread', 'vs proper-lockfile'], rows, ['l', 'r', 'r', 'r', 'r'])}

Ops: deadbolt ${LOCK_CONTENDERS[0].op} on \`<tmp>/bench.lock\`; proper-lockfile ${LOCK_CONTENDERS[2].op} on \`<tmp>/data.json\` (it creates and removes the directory \`data.json.lock\`), other options at their defaults. Checked cost (fast ops/s / checked ops/s): ${fmtRatio(fast / med('deadbolt-checked'))}.`;
  return {
    markdown,
    criterion: {
      name: `FileLock lock+unlock (fast) >= ${LOCK_RATIO}x proper-lockfile`,
      pass: fast >= LOCK_RATIO * proper,
      detail: `${fmtOps(fast)} vs ${fmtOps(proper)} ops/s (${fmtRatio(fast / proper)}); held in ${held}/${s.lockRounds} rounds`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Recovery after SIGKILL

const RECOVERY_CONTENDERS = [
  { id: 'deadbolt', label: 'deadbolt FileLock', waiter: '`lock.lock({ timeout: 10_000 })`' },
  { id: 'proper-lockfile', label: 'proper-lockfile 4 (stale: 2000)', waiter: '`lockfile.lock(file, { stale: 2000, realpath: false, retries: { retries: 100, minTimeout: 50, maxTimeout: 100 } })`' },
] as const;
type RecoveryId = (typeof RECOVERY_CONTENDERS)[number]['id'];

async function recoveryTrial(id: RecoveryId, s: Run, diag: Diagnostics): Promise<number> {
  const dir = tempDir('recovery');
  const file = id === 'deadbolt' ? join(dir, 'bench.lock') : join(dir, 'data.json');
  if (id === 'proper-lockfile') writeFileSync(file, '{}\n');
  const args = (role: string): string[] => [role, id, JSON.stringify({ distUrl: s.distUrl, file })];
  const holder = new IpcChild(`${id} holder`, 'recovery.mjs', args('holder'));
  let waiter: IpcChild | null = null;
  try {
    await holder.next('ready');
    waiter = new IpcChild(`${id} waiter`, 'recovery.mjs', args('waiter'));
    await waiter.next('waiting');
    // Let the waiter really wait (poll) before the holder dies.
    await delay(100);
    if (waiter.has('acquired')) throw new Error(`${id}: the waiter got the lock while the holder was alive`);
    const killedAt = now();
    holder.child.kill('SIGKILL');
    const acquired = await waiter.next('acquired', 15_000);
    const { signal } = await holder.exited;
    if (signal !== 'SIGKILL') throw new Error(`${id}: the holder ended with ${String(signal)}, not SIGKILL`);
    const { code } = await waiter.exited;
    if (code !== 0) throw new Error(`${id}: the waiter exited with ${String(code)}\n${waiter.stderr}`);
    diag.stderr(`${id} holder`, holder.stderr);
    diag.stderr(`${id} waiter`, waiter.stderr);
    const latency = (acquired.at as number) - killedAt;
    if (!(latency > 0)) throw new Error(`${id}: the waiter reports the lock ${(-latency).toFixed(1)} ms before the holder's kill`);
    return latency;
  } finally {
    holder.kill();
    waiter?.kill();
    await Promise.all([holder.exited, waiter?.exited]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchRecovery(s: Run, diag: Diagnostics, log: (line: string) => void): Promise<{ markdown: string; criterion: FsCriterion }> {
  const trials = new Map<RecoveryId, number[]>(RECOVERY_CONTENDERS.map((c) => [c.id, []]));
  for (let t = 0; t < s.recoveryTrials; t++) {
    // Interleaved, alternating which one goes first.
    for (const c of rotate(RECOVERY_CONTENDERS, t % 2, 2)) {
      diag.load();
      const ms = await recoveryTrial(c.id, s, diag);
      trials.get(c.id)!.push(ms);
      log(`[recovery ${t + 1}/${s.recoveryTrials}] ${c.id.padEnd(16)} ${fmtMs(ms)} from SIGKILL to acquired`);
    }
  }
  const stats = (id: RecoveryId): { med: number; min: number; max: number; n: number } => {
    const v = trials.get(id)!;
    return { med: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
  };
  const proper = stats('proper-lockfile');
  const rows = RECOVERY_CONTENDERS.map((c) => {
    const x = stats(c.id);
    return [c.label, fmtMs(x.med), fmtMs(x.min), fmtMs(x.max), spread(trials.get(c.id)!, x.med), String(x.n), fmtRatio(proper.med / x.med)];
  });
  const db = stats('deadbolt');
  const markdown = `## deadbolt/fs: recovery after the holder is SIGKILLed

A holder process takes the lock; a waiter process starts waiting for it and reports so over IPC; 100 ms later the parent SIGKILLs the holder. Latency: the waiter's acquire time minus the kill time (read just before \`kill()\`), both on the clock all processes share (\`performance.timeOrigin + performance.now()\`). ${db.n} trials per contender, interleaved.

${table(['Contender', 'Median', 'Min', 'Max', 'Spread (half range / median)', 'Trials', 'Faster than proper-lockfile (median)'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r'])}

Waiters: deadbolt ${RECOVERY_CONTENDERS[0].waiter}; proper-lockfile ${RECOVERY_CONTENDERS[1].waiter}. 2000 ms is the smallest \`stale\` proper-lockfile accepts. Its holder must use \`stale: 2000\` as well: a holder refreshes the lock directory's mtime every \`stale / 2\` ms (here 1000 ms), and that interval must stay below the waiter's \`stale\`, or the waiter would take the lock from a live holder. So a dead holder's lock is taken over only once its mtime is more than 2000 ms old (the holder's last refresh, or its first mtime, which proper-lockfile sets up to 1 s ahead to probe the file system's mtime precision), at the next retry (every 100 ms at most). deadbolt's holder dies with its OS lock, which the kernel frees at once; the waiter's next poll (every 8 ms at most) takes it.`;
  return {
    markdown,
    criterion: {
      name: `Recovery after SIGKILL: deadbolt median and max < ${RECOVERY_LIMIT_MS} ms`,
      pass: db.med < RECOVERY_LIMIT_MS && db.max < RECOVERY_LIMIT_MS,
      detail: `median ${fmtMs(db.med)}, max ${fmtMs(db.max)} over ${db.n} trials (proper-lockfile: median ${fmtMs(proper.med)}, max ${fmtMs(proper.max)})`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Store update throughput

const STORE_CONTENDERS = [
  { id: 'deadbolt-coalesce', label: 'deadbolt Store, coalescing on (default)', fsync: 'file + dir', envelope: true },
  { id: 'deadbolt-no-coalesce', label: 'deadbolt Store, coalescing off', fsync: 'file + dir', envelope: true },
  { id: 'deadbolt-no-coalesce-no-fsync', label: 'deadbolt Store, coalescing off, fsync: false', fsync: 'none', envelope: true },
  { id: 'lowdb', label: 'lowdb 7 (no cross-process lock)', fsync: 'none', envelope: false },
  { id: 'hand-lock', label: 'hand-rolled: proper-lockfile + write-file-atomic', fsync: 'file', envelope: false },
  { id: 'hand-no-lock', label: 'hand-rolled without a lock: write-file-atomic', fsync: 'file', envelope: false },
] as const;
type StoreId = (typeof STORE_CONTENDERS)[number]['id'];

interface StoreRun {
  readonly ops: number;
  readonly wallMs: number;
  readonly issued: number;
  readonly acked: number;
  readonly lost: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly stoppedEarly: boolean;
  readonly corrupt: boolean;
}

interface DoneMessage extends Message {
  end: number;
  acked: number[];
  errors: number;
  firstError: string | null;
  stoppedEarly: boolean;
}

async function storeRun(id: StoreId, procs: number, updates: number, s: Run, diag: Diagnostics): Promise<StoreRun> {
  const dir = tempDir('store');
  const file = join(dir, 'store.json');
  const envelope = STORE_CONTENDERS.find((c) => c.id === id)!.envelope;
  writeSeedFile(file, envelope);
  const children: IpcChild[] = [];
  try {
    for (let p = 0; p < procs; p++) {
      const config = { distUrl: s.distUrl, file, scratch: join(dir, `scratch-${p}.json`), proc: p, updates, group: GROUP, warmup: s.storeWarmup, maxMs: s.storeMaxMs };
      children.push(new IpcChild(`${id} x${procs} #${p}`, 'store-worker.mjs', [id, JSON.stringify(config)]));
    }
    await Promise.all(children.map((c) => c.next('ready')));
    // The start barrier: every process is ready (warmed up, file opened) before any starts.
    const start = now();
    for (const c of children) c.send({ type: 'go' });
    const done = (await Promise.all(children.map((c) => c.next('done', s.storeMaxMs + 30_000)))) as DoneMessage[];
    const exits = await Promise.all(children.map((c) => c.exited));
    exits.forEach(({ code }, p) => {
      if (code !== 0) throw new Error(`${id} x${procs} #${p}: exited with ${String(code)}\n${children[p]!.stderr}`);
    });
    for (const c of children) diag.stderr(c.label, c.stderr);
    const wallMs = Math.max(...done.map((d) => d.end)) - start;
    // Lost: updates whose caller was told they committed, and seed entries, missing from the file.
    let present: Record<string, unknown> = {};
    let corrupt = false;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: Record<string, unknown> } & Record<string, unknown>;
      present = (envelope ? parsed.data : parsed) ?? {};
    } catch {
      corrupt = true;
    }
    let lost = Object.keys(seedData()).filter((k) => !(k in present)).length;
    done.forEach((d, p) => (lost += d.acked.filter((i) => !(`p${p}-${i}` in present)).length));
    const acked = done.reduce((sum, d) => sum + d.acked.length, 0);
    return {
      ops: (acked / wallMs) * 1000,
      wallMs,
      issued: done.reduce((sum, d) => sum + d.acked.length + d.errors, 0),
      acked,
      lost,
      errors: done.reduce((sum, d) => sum + d.errors, 0),
      firstError: done.find((d) => d.firstError !== null)?.firstError ?? null,
      stoppedEarly: done.some((d) => d.stoppedEarly),
      corrupt,
    };
  } finally {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchStore(s: Run, diag: Diagnostics, log: (line: string) => void): Promise<{ markdown: string; criterion: FsCriterion }> {
  const cells: { id: StoreId; procs: number }[] = [];
  for (const procs of [1, 4]) for (const c of STORE_CONTENDERS) if (procs === 1 || c.id !== 'hand-no-lock') cells.push({ id: c.id, procs });
  const key = (id: StoreId, procs: number): string => `${id}/${procs}`;
  const runs = new Map<string, StoreRun[]>(cells.map((c) => [key(c.id, c.procs), []]));
  for (let round = 0; round < s.storeRounds; round++) {
    for (const { id, procs } of rotate(cells, round, s.storeRounds)) {
      diag.load();
      const run = await storeRun(id, procs, procs === 1 ? s.storeUpdates1 : s.storeUpdates4, s, diag);
      runs.get(key(id, procs))!.push(run);
      const notes = [run.lost > 0 ? `${run.lost} lost` : '', run.errors > 0 ? `${run.errors} failed (${String(run.firstError)})` : '', run.corrupt ? 'file corrupt' : '', run.stoppedEarly ? 'stopped early' : ''].filter((x) => x !== '');
      log(`[store ${round + 1}/${s.storeRounds}] ${id.padEnd(29)} x${procs} ${fmtOps(run.ops).padStart(7)} updates/s (${fmtCount(run.acked)} in ${fmtMs(run.wallMs)})${notes.length > 0 ? `; ${notes.join(', ')}` : ''}`);
    }
  }

  const opsOf = (id: StoreId, procs: number): number => median(runs.get(key(id, procs))!.map((r) => r.ops));
  const tables: string[] = [];
  for (const procs of [1, 4]) {
    const lowdb = opsOf('lowdb', procs);
    const hand = opsOf('hand-lock', procs);
    const rows = cells
      .filter((c) => c.procs === procs)
      .map(({ id }) => {
        const list = runs.get(key(id, procs))!;
        const ops = opsOf(id, procs);
        const acked = list.reduce((sum, r) => sum + r.acked, 0);
        const lost = list.reduce((sum, r) => sum + r.lost, 0);
        const errors = list.reduce((sum, r) => sum + r.errors, 0);
        const corrupt = list.filter((r) => r.corrupt).length;
        const early = list.filter((r) => r.stoppedEarly).length;
        const firstError = list.find((r) => r.firstError !== null)?.firstError;
        const label = STORE_CONTENDERS.find((c) => c.id === id)!.label;
        const lostCell = `${fmtCount(lost)} of ${fmtCount(acked + SEED_KEYS * list.length)}${lost > 0 ? ` (${((lost / (acked + SEED_KEYS * list.length)) * 100).toFixed(0)}%)` : ''}${corrupt > 0 ? `; file corrupt in ${corrupt} run(s)` : ''}`;
        const errorCell = errors === 0 ? '0' : `${fmtCount(errors)} (${String(firstError)})`;
        return [
          `${label}${early > 0 ? ` (stopped at the ${s.storeMaxMs / 1000} s limit in ${early} run(s))` : ''}`,
          fmtOps(ops),
          spread(
            list.map((r) => r.ops),
            ops,
          ),
          fmtRatio(ops / lowdb),
          fmtRatio(ops / hand),
          lostCell,
          errorCell,
          STORE_CONTENDERS.find((c) => c.id === id)!.fsync,
        ];
      });
    const updates = procs === 1 ? s.storeUpdates1 : s.storeUpdates4;
    tables.push(
      `### ${procs === 1 ? '1 process' : `${procs} processes at once`}: ${procs === 1 ? fmtCount(updates) : `${procs} x ${fmtCount(updates)}`} updates per run, ${s.storeRounds} run(s) per contender\n\n${table(
        ['Contender', 'Median updates/s', 'Round spread', 'vs lowdb', 'vs hand-rolled (lock)', 'Lost updates (all runs)', 'Failed calls', 'fsync'],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      )}`,
    );
  }

  const deadboltRuns = [...runs.entries()].filter(([k]) => k.startsWith('deadbolt')).flatMap(([, list]) => list);
  const dbLost = deadboltRuns.reduce((sum, r) => sum + r.lost, 0);
  const dbErrors = deadboltRuns.reduce((sum, r) => sum + r.errors, 0);
  const dbCorrupt = deadboltRuns.filter((r) => r.corrupt).length;
  const dbAcked = deadboltRuns.reduce((sum, r) => sum + r.acked, 0);
  const lowdb4 = runs.get(key('lowdb', 4))!;
  const markdown = `## deadbolt/fs: Store update throughput

Each update adds one key to a JSON object that starts with ${SEED_KEYS} keys. Throughput: committed (resolved) updates of all processes / wall time from a common start barrier to the last process's last commit. "Lost updates" counts updates whose call resolved, plus seed entries, missing from the file at the end (of all the entries that should be there, over all runs). deadbolt's Store issues ${GROUP} concurrent \`store.update(draft => { draft[key] = value })\` calls at a time per process, awaiting each group; the others go one update at a time.

${tables.join('\n\n')}

- **fsync differs.** deadbolt's Store fsyncs the file and its directory on every write by default (durable across power loss); lowdb 7 (steno) does not fsync at all; write-file-atomic fsyncs the file but not the directory. The row "coalescing off, fsync: false" is the like-for-like comparison with lowdb.
- **lowdb has no cross-process lock**: in 4 processes each process keeps its own copy of the data in memory and writes it over the others' (hence the lost updates, though every call resolved); it also writes every process through one fixed temp file name (\`.store.json.tmp\`), so their renames collide${
    lowdb4.some((r) => r.errors > 0) ? ` (calls that failed: ${fmtCount(lowdb4.reduce((sum, r) => sum + r.errors, 0))} in this run, first error \`${String(lowdb4.find((r) => r.firstError !== null)?.firstError)}\`; steno retries a failed rename 10 times, 100 ms apart, before it gives up)` : ''
  }.
- Hand-rolled: \`lockfile.lock(file, { realpath: false, retries: { retries: 2000, factor: 1.5, minTimeout: 1, maxTimeout: 10 } })\` (polling as fast as deadbolt's 1–8 ms), \`readFile\`, \`JSON.parse\`, add the key, \`writeFileAtomic(file, JSON.stringify(data, null, 2) + '\\n')\` (npm write-file-atomic 6, defaults), \`await release()\`. Without the lock it is only safe in one process.
- Every process first warms up on a private scratch file (${fmtCount(s.storeWarmup)} updates of the same code), then opens the shared file, then waits at the barrier. A run stops early only past ${s.storeMaxMs / 1000} s (marked if it happened).`;
  return {
    markdown,
    criterion: {
      name: 'deadbolt Store loses no update (every configuration, 1 and 4 processes)',
      pass: dbLost === 0 && dbErrors === 0 && dbCorrupt === 0 && dbAcked > 0,
      detail: `${fmtCount(dbLost)} lost, ${fmtCount(dbErrors)} failed, ${dbCorrupt} corrupt files, over ${fmtCount(dbAcked)} committed updates in ${deadboltRuns.length} runs; lowdb in 4 processes lost ${fmtCount(lowdb4.reduce((sum, r) => sum + r.lost, 0))}`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 4. 100 concurrent coalesced updates vs 100 sequential lowdb writes

interface BurstResult {
  contender: string;
  trialsMs: number[];
}

async function benchBurst(s: Run, diag: Diagnostics, log: (line: string) => void): Promise<{ markdown: string; criterion: FsCriterion }> {
  const ids = ['deadbolt', 'lowdb'] as const;
  const trials = new Map<string, number[]>(ids.map((id) => [id, []]));
  const perRound = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (let round = 0; round < s.burstRounds; round++) {
    for (const id of rotate(ids, round, s.burstRounds)) {
      const dir = tempDir('burst');
      try {
        diag.load();
        const config = { distUrl: s.distUrl, dir, size: BURST_SIZE, warmupTrials: s.burstWarmup, trials: s.burstTrials };
        const result = await runJson<BurstResult>(diag, `burst ${id}`, 'burst.mjs', [id, JSON.stringify(config)]);
        trials.get(id)!.push(...result.trialsMs);
        perRound.get(id)!.push(median(result.trialsMs));
        log(`[burst ${round + 1}/${s.burstRounds}] ${id.padEnd(8)} ${fmtMs(median(result.trialsMs))} for ${BURST_SIZE} updates (trials: ${result.trialsMs.map(fmtMs).join(', ')})`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const db = median(trials.get('deadbolt')!);
  const low = median(trials.get('lowdb')!);
  const held = perRound.get('deadbolt')!.filter((v, r) => perRound.get('lowdb')![r]! / v >= BURST_RATIO).length;
  const rows = [
    [`deadbolt Store: ${BURST_SIZE} concurrent \`update()\` calls (coalescing on, fsync on: the defaults)`, fmtMs(db), fmtMs(db / BURST_SIZE), spread(perRound.get('deadbolt')!, db), fmtRatio(low / db)],
    [`lowdb 7: ${BURST_SIZE} sequential \`db.data[k] = v; await db.write()\` (no fsync)`, fmtMs(low), fmtMs(low / BURST_SIZE), spread(perRound.get('lowdb')!, low), '1.00x'],
  ];
  const markdown = `## deadbolt/fs: ${BURST_SIZE} updates, coalesced vs lowdb

The time until all ${BURST_SIZE} updates have resolved, in one process. ${s.burstRounds} process(es) per contender, each ${s.burstWarmup} untimed + ${s.burstTrials} timed trials; every trial starts from a fresh file of ${SEED_KEYS} keys (opened and loaded untimed), and the file is checked afterwards to hold all ${SEED_KEYS + BURST_SIZE} keys. Median over all timed trials.

${table(['Contender', `Median time for ${BURST_SIZE}`, 'Per update', 'Round spread', 'Speed-up vs lowdb'], rows, ['l', 'r', 'r', 'r', 'r'])}`;
  return {
    markdown,
    criterion: {
      name: `${BURST_SIZE} concurrent coalesced updates >= ${BURST_RATIO}x faster than ${BURST_SIZE} sequential lowdb writes`,
      pass: low / db >= BURST_RATIO,
      detail: `${fmtMs(db)} vs ${fmtMs(low)} (${fmtRatio(low / db)}); held in ${held}/${s.burstRounds} rounds`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Store.get() from the cache

interface GetResult {
  samples: Record<'get' | 'stat' | 'statBigint', { ops: number; ms: number; opsPerSec: number }[]>;
}

async function benchGet(s: Run, diag: Diagnostics, log: (line: string) => void): Promise<string> {
  const loops = [
    { id: 'get', label: '`store.get()`, file unchanged (served from the cache)' },
    { id: 'statBigint', label: '`fs.statSync(file, { bigint: true, throwIfNoEntry: false })` (the check `get()` makes)' },
    { id: 'stat', label: '`fs.statSync(file)`' },
  ] as const;
  const all = new Map<string, number[]>(loops.map((l) => [l.id, []]));
  const perRound = new Map<string, number[]>(loops.map((l) => [l.id, []]));
  for (let round = 0; round < s.getRounds; round++) {
    const dir = tempDir('get');
    try {
      diag.load();
      const config = { distUrl: s.distUrl, file: join(dir, 'store.json'), samples: s.getSamples, targetMs: s.getTargetMs, warmupMs: s.getWarmupMs };
      const result = await runJson<GetResult>(diag, 'get', 'get-loop.mjs', [JSON.stringify(config)]);
      for (const l of loops) {
        const values = result.samples[l.id].map((x) => x.opsPerSec);
        all.get(l.id)!.push(...values);
        perRound.get(l.id)!.push(median(values));
      }
      log(`[get ${round + 1}/${s.getRounds}] ${loops.map((l) => `${l.id} ${fmtOps(perRound.get(l.id)![round]!)} ops/s`).join(', ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const stat = median(all.get('stat')!);
  const rows = loops.map((l) => {
    const ops = median(all.get(l.id)!);
    return [l.label, fmtOps(ops), (1e9 / ops).toFixed(0), spread(perRound.get(l.id)!, ops), fmtRatio(ops / stat)];
  });
  return `## deadbolt/fs: Store.get() from the cache

A loop of \`get()\` on a store whose file does not change (${SEED_KEYS} keys), and for context the \`statSync\` calls alone, in the same process, samples interleaved; ${s.getRounds} process(es). \`get()\` makes one \`statSync\` per call to notice other processes' writes, and returns the cached frozen snapshot when inode, size, mtime and ctime are unchanged.

${table(['Loop', 'Median ops/s', 'ns/op', 'Round spread', 'vs fs.statSync'], rows, ['l', 'r', 'r', 'r', 'r'])}`;
}

// ---------------------------------------------------------------------------------------------
// Entry point

/**
 * Copies dist/ to a temp directory, so that the whole run measures one build even if dist/ is
 * rebuilt meanwhile. The copy resolves its dependencies (fs-native-extensions) through a symlink
 * to the repository's node_modules.
 */
function snapshotDist(): { dir: string; fsUrl: string; indexUrl: string } {
  const dir = tempDir('dist');
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, fsUrl: pathToFileURL(join(dir, 'dist', 'fs.js')).href, indexUrl: pathToFileURL(join(dir, 'dist', 'index.js')).href };
}

/** Checks, in a child process, that the snapshot loads and exports what the benchmarks use. */
function checkSnapshot(fsUrl: string): Promise<void> {
  const code = `const m = await import(${JSON.stringify(fsUrl)}); for (const name of ['FileLock', 'Store']) if (typeof m[name] !== 'function') throw new Error('dist/fs.js does not export ' + name);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: root, env: childEnv('off'), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve() : reject(new Error(`the copy of dist/ does not load (was dist/ being rebuilt?):\n${stderr}`))));
  });
}

/** Warns when dist/fs.js is older than a source file of deadbolt/fs (the bench measures dist). */
function staleDist(): string | null {
  const built = statSync(distFs).mtimeMs;
  const sources = [join(root, 'src', 'fs'), join(root, 'src', 'discipline'), join(root, 'src', 'primitives')];
  for (const dir of sources) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (name.endsWith('.ts') && statSync(join(dir, name)).mtimeMs > built) return join(dir, name);
  }
  return null;
}

export async function runFsBenchmarks(options: FsBenchOptions): Promise<{ markdown: string; criteria: FsCriterion[] }> {
  const { quick, log } = options;
  if (!existsSync(distFs)) throw new Error('dist/fs.js is missing: build first (`npx tsup`; `npm run bench` does).');
  const stale = staleDist();
  if (stale !== null) log(`warning: ${stale} is newer than dist/fs.js; the benchmark measures dist (rebuild with \`npx tsup\`)`);
  const snapshot = snapshotDist();
  try {
    await checkSnapshot(snapshot.fsUrl);
    return await runAll({ ...settings(quick), distUrl: snapshot.fsUrl, indexUrl: snapshot.indexUrl }, quick, log);
  } finally {
    rmSync(snapshot.dir, { recursive: true, force: true });
  }
}

async function runAll(s: Run, quick: boolean, log: (line: string) => void): Promise<{ markdown: string; criteria: FsCriterion[] }> {
  const diag = new Diagnostics(log);
  const started = performance.now();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const cores = os.cpus().length;
  log(`deadbolt/fs bench${quick ? ' (quick: 1 round, small counts)' : ''}: node ${process.version}, ${cpu} x ${cores}`);

  const stage = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await run();
    log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return result;
  };
  const lock = await stage('FileLock lock+unlock', () => benchLock(s, diag, log));
  const recovery = await stage('recovery after SIGKILL', () => benchRecovery(s, diag, log));
  const store = await stage('Store update throughput', () => benchStore(s, diag, log));
  const burst = await stage('100 updates', () => benchBurst(s, diag, log));
  const get = await stage('Store.get()', () => benchGet(s, diag, log));
  const totalMs = performance.now() - started;

  const criteria = [lock.criterion, recovery.criterion, store.criterion, burst.criterion];
  const criteriaTable = table(
    ['Criterion', 'Measured', 'Result'],
    criteria.map((c) => [c.name, c.detail, c.pass ? '**PASS**' : '**FAIL**']),
    ['l', 'l', 'l'],
  );
  const loads = diag.loads;
  const codes = [...diag.codes.entries()].map(([code, n]) => `${code} x${n}`).join(', ');
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const markdown = `## deadbolt/fs: criteria

${quick ? '> **BENCH_QUICK=1 smoke test of deadbolt/fs: 1 round, small counts. Not results to quote.**\n\n' : ''}${criteriaTable}

${lock.markdown}

${recovery.markdown}

${store.markdown}

${burst.markdown}

${get}

## deadbolt/fs: method

- Produced by bench/fs/run-fs.ts on ${date}: Node ${process.version} (${process.platform}/${process.arch}), ${cpu} (${cores} logical cores); temp files in ${os.tmpdir()}. Runtime of these benchmarks: ${(totalMs / 1000).toFixed(1)} s.
- Every measurement runs in fresh child processes: plain \`node\` on the .mjs files in bench/fs/ (no tsx), importing deadbolt from the built \`dist/fs.js\` (a copy of dist/ taken at the start, so one build is measured throughout), with DEADBOLT_CHECKS=off (fast mode, the production default) except the checked-mode FileLock row. Contenders are interleaved: round-robin with a different starting point each round (recovery trials alternate). Figures are medians; "Round spread" is half the range of the per-round medians (per-trial values for recovery), relative to the overall median. Loop benchmarks warm up while calibrating their op count (as bench/run.ts does), and collect garbage between samples outside timed code.
- Cross-process times use \`performance.timeOrigin + performance.now()\`, a clock every process on the host shares.
- Machine load (1-minute load average, read before each measurement): median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}, on ${cores} logical cores${
    median(loads) > 1.5 ? ' (**other work shared the CPU during this run: absolute numbers are depressed and noisier than on an idle machine**)' : ''
  }. The 4-process Store runs use all cores by design. Quote the ratios, measured side by side, rather than absolute numbers: the machine is a shared VM.
- deadbolt diagnostics printed by the children: ${codes === '' ? 'none' : codes}.`;
  return { markdown, criteria };
}
