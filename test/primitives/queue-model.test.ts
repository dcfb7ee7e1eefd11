/*
 * Model-based tests of the queue discipline that Mutex, RwLock and Semaphore share, against a
 * small reference model written here from the documented semantics (strict FIFO over units):
 *
 * - an exclusive request needs every unit free; a shared request of weight w needs no exclusive
 *   holder and units + w <= capacity (Mutex: capacity 1, exclusive only; RwLock: read = shared
 *   weight 1 under capacity Infinity, write = exclusive; Semaphore(n).acquire(w) = shared w of n);
 * - a new request is granted on arrival only if nobody is queued and it fits;
 * - a release, an abort or a timeout grants from the head for as long as the head fits;
 * - aborting a signal removes every waiter that passes it at once (none of them is granted), and
 *   rejects each with signal.reason; a timeout rejects with LockTimeoutError; holders keep holding;
 * - a try-acquire is synchronous, never queues, and succeeds exactly when a new request would be
 *   granted on arrival.
 *
 * fast-check drives random command sequences (request, try, release, abort a waiter's signal,
 * abort a holder's signal, a batch whose first request times out), with a signal per request or a
 * few signals shared by many requests. After each command the real lock is compared
 * with the model twice: synchronously (the counters must already be right when the call returns)
 * and once microtasks have settled (grant order, every request's fate, rejection reasons, and a
 * model-free "no lost wake-up" check on the real lock alone). Each run ends by releasing every
 * holder until the lock is idle, so every waiter that was not cancelled must eventually be granted.
 *
 * Every simulated client acquires in a flow of its own (inOtherFlow): in checked mode the test
 * body is one flow, and a flow that requests a lock it holds is refused as a self-deadlock.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { LockTimeoutError, Mutex, RwLock, Semaphore, type AcquireOptions, type Guard } from '../../src/index.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle, sleep } from '../support/helpers.js';

// ---------------------------------------------------------------------------------------------
// Requests and the reference model
// ---------------------------------------------------------------------------------------------

type Mode = 'exclusive' | 'shared';

interface Shape {
  readonly mode: Mode;
  readonly weight: number;
}

const EXCLUSIVE: Shape = { mode: 'exclusive', weight: 1 };
const READ: Shape = { mode: 'shared', weight: 1 };

function showShape(shape: Shape): string {
  return shape.mode === 'exclusive' ? 'exclusive' : `shared/${shape.weight}`;
}

/** The reference rule: does `shape` fit beside these holders? */
function fitsBeside(holders: readonly Shape[], shape: Shape, capacity: number): boolean {
  if (shape.mode === 'exclusive') return holders.length === 0;
  if (holders.some((holder) => holder.mode === 'exclusive')) return false;
  const used = holders.reduce((sum, holder) => sum + holder.weight, 0);
  return used + shape.weight <= capacity;
}

type Status = 'queued' | 'held' | 'released' | 'rejected';

type Rejection = { readonly kind: 'abort'; readonly reason: unknown } | { readonly kind: 'timeout'; readonly ms: number };

interface ModelReq {
  readonly id: number;
  readonly shape: Shape;
  /** The key of the AbortSignal the request passes (several requests may share one), or null. */
  readonly signal: number | null;
  status: Status;
  rejection: Rejection | null;
}

class QueueModel {
  nextId = 0;
  /** Every request that was opened, by id (arrival order). */
  readonly reqs = new Map<number, ModelReq>();
  /** Holders, in grant order. */
  readonly held: ModelReq[] = [];
  /** Waiters, head first. */
  readonly queue: ModelReq[] = [];
  nextSignal = 0;
  readonly abortedSignals = new Set<number>();
  /** Signals that several requests share: slot -> signal key (a fresh one once it is aborted). */
  readonly slots = new Map<number, number>();

  constructor(readonly capacity: number) {}

  fits(shape: Shape): boolean {
    return fitsBeside(
      this.held.map((req) => req.shape),
      shape,
      this.capacity,
    );
  }

  /** A new request is granted on arrival only if nobody is queued and it fits. */
  grantsOnArrival(shape: Shape): boolean {
    return this.queue.length === 0 && this.fits(shape);
  }

  newSignal(): number {
    return this.nextSignal++;
  }

  slotSignal(slot: number): number {
    let key = this.slots.get(slot);
    if (key === undefined || this.abortedSignals.has(key)) {
      key = this.newSignal();
      this.slots.set(slot, key);
    }
    return key;
  }

  open(shape: Shape, signal: number | null): ModelReq {
    const req: ModelReq = { id: this.nextId++, shape, signal, status: 'queued', rejection: null };
    this.reqs.set(req.id, req);
    return req;
  }

  /** A request arrives: granted (true) or queued at the tail (false). */
  arrive(req: ModelReq): boolean {
    if (this.grantsOnArrival(req.shape)) {
      req.status = 'held';
      this.held.push(req);
      return true;
    }
    this.queue.push(req);
    return false;
  }

  /** A request refused without queueing (already aborted signal, or timeout 0 that must wait). */
  refuse(req: ModelReq, rejection: Rejection): void {
    req.status = 'rejected';
    req.rejection = rejection;
  }

  /** Returns the waiters the release lets in, in grant order. */
  release(req: ModelReq): ModelReq[] {
    const index = this.held.indexOf(req);
    assert.ok(index >= 0, `model: #${req.id} is not held`);
    this.held.splice(index, 1);
    req.status = 'released';
    return this.drain();
  }

  /**
   * A signal is aborted: every waiter that passes it leaves the queue at once (none of them may be
   * granted), then the head is let in while it fits. Holders that passed it keep their hold.
   */
  abortSignal(key: number, reason: unknown): { cancelled: ModelReq[]; granted: ModelReq[] } {
    this.abortedSignals.add(key);
    const cancelled = this.queue.filter((req) => req.signal === key);
    for (const req of cancelled) {
      this.queue.splice(this.queue.indexOf(req), 1);
      req.status = 'rejected';
      req.rejection = { kind: 'abort', reason };
    }
    return { cancelled, granted: this.drain() };
  }

  /** A waiter times out: it leaves the queue; returns the waiters let in. */
  cancel(req: ModelReq, rejection: Rejection): ModelReq[] {
    const index = this.queue.indexOf(req);
    assert.ok(index >= 0, `model: #${req.id} is not queued`);
    this.queue.splice(index, 1);
    req.status = 'rejected';
    req.rejection = rejection;
    return this.drain();
  }

  private drain(): ModelReq[] {
    const granted: ModelReq[] = [];
    for (let head = this.queue[0]; head !== undefined && this.fits(head.shape); head = this.queue[0]) {
      this.queue.shift();
      head.status = 'held';
      this.held.push(head);
      granted.push(head);
    }
    return granted;
  }
}

// ---------------------------------------------------------------------------------------------
// The locks under test, behind one face
// ---------------------------------------------------------------------------------------------

type Observation = Readonly<Record<string, number | boolean>>;

interface Subject {
  readonly waiting: number;
  acquire(shape: Shape, options: AcquireOptions | undefined): Promise<Guard>;
  tryAcquire(shape: Shape): Guard | null;
  /** The lock's public counters. */
  observe(): Observation;
}

interface Spec {
  readonly name: string;
  readonly capacity: number;
  /** Can two requests hold at once (so that a drain may grant several, or a fitting one may queue)? */
  readonly sharing: boolean;
  readonly shape: fc.Arbitrary<Shape>;
  create(): Subject;
  /** What `observe()` must return for these holders and this many waiters. */
  expected(held: readonly Shape[], waiting: number): Observation;
}

const mutexSpec: Spec = {
  name: 'Mutex',
  capacity: 1,
  sharing: false,
  shape: fc.constant(EXCLUSIVE),
  create() {
    const lock = new Mutex();
    return {
      get waiting() {
        return lock.waiting;
      },
      acquire: (_shape, options) => lock.lock(options),
      tryAcquire: () => lock.tryLock(),
      observe: () => ({ waiting: lock.waiting, isLocked: lock.isLocked }),
    };
  },
  expected: (held, waiting) => ({ waiting, isLocked: held.length > 0 }),
};

const rwLockSpec: Spec = {
  name: 'RwLock',
  capacity: Infinity,
  sharing: true,
  shape: fc.constantFrom(READ, EXCLUSIVE),
  create() {
    const lock = new RwLock();
    return {
      get waiting() {
        return lock.waiting;
      },
      acquire: (shape, options) => (shape.mode === 'shared' ? lock.read(options) : lock.write(options)),
      tryAcquire: (shape) => (shape.mode === 'shared' ? lock.tryRead() : lock.tryWrite()),
      observe: () => ({ waiting: lock.waiting, readers: lock.readers, isWriteLocked: lock.isWriteLocked }),
    };
  },
  expected: (held, waiting) => ({
    waiting,
    readers: held.filter((shape) => shape.mode === 'shared').length,
    isWriteLocked: held.some((shape) => shape.mode === 'exclusive'),
  }),
};

function semaphoreSpec(permits: number): Spec {
  return {
    name: `Semaphore(${permits})`,
    capacity: permits,
    sharing: permits > 1,
    shape: fc.integer({ min: 1, max: permits }).map((weight): Shape => ({ mode: 'shared', weight })),
    create() {
      const lock = new Semaphore(permits);
      return {
        get waiting() {
          return lock.waiting;
        },
        acquire: (shape, options) => lock.acquire(shape.weight, options),
        tryAcquire: (shape) => lock.tryAcquire(shape.weight),
        observe: () => ({ waiting: lock.waiting, available: lock.available, permits: lock.permits }),
      };
    },
    expected: (held, waiting) => ({
      waiting,
      available: permits - held.reduce((sum, shape) => sum + shape.weight, 0),
      permits,
    }),
  };
}

const SPECS: readonly Spec[] = [mutexSpec, rwLockSpec, semaphoreSpec(1), semaphoreSpec(3), semaphoreSpec(5)];

// ---------------------------------------------------------------------------------------------
// The real side: what happened to each request
// ---------------------------------------------------------------------------------------------

interface RealReq {
  readonly id: number;
  readonly shape: Shape;
  status: 'pending' | 'granted' | 'rejected';
  guard: Guard | null;
  error: unknown;
}

/** Counts which situations the random runs reached, so that a property cannot pass vacuously. */
class Coverage {
  readonly counts = new Map<string, number>();

  hit(key: string, when = true): void {
    if (when) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  assertReached(keys: readonly string[]): void {
    const missing = keys.filter((key) => (this.counts.get(key) ?? 0) === 0);
    assert.deepEqual(missing, [], `the random runs never reached: ${missing.join('; ')} (reached: ${JSON.stringify([...this.counts])})`);
  }
}

class Harness {
  readonly reqs = new Map<number, RealReq>();
  /** Ids in the order their grant was observed (promise callbacks run in resolution order). */
  readonly grants: number[] = [];
  /** How much of `grants` was already checked. */
  seen = 0;
  /** The AbortController behind each model signal key. */
  readonly controllers = new Map<number, AbortController>();

  constructor(
    readonly spec: Spec,
    readonly subject: Subject,
    readonly coverage: Coverage,
  ) {}

  controller(key: number): AbortController {
    let controller = this.controllers.get(key);
    if (controller === undefined) {
      controller = new AbortController();
      this.controllers.set(key, controller);
    }
    return controller;
  }

  /** Starts an acquisition in a flow of its own and records its fate. */
  start(req: ModelReq, options: AcquireOptions | undefined): RealReq {
    if (req.signal !== null) options = { ...options, signal: this.controller(req.signal).signal };
    const rec: RealReq = { id: req.id, shape: req.shape, status: 'pending', guard: null, error: undefined };
    this.reqs.set(req.id, rec);
    inOtherFlow(() => {
      void this.subject.acquire(req.shape, options).then(
        (guard) => {
          rec.status = 'granted';
          rec.guard = guard;
          this.grants.push(req.id);
        },
        (error: unknown) => {
          rec.status = 'rejected';
          rec.error = error;
        },
      );
    });
    return rec;
  }

  rec(id: number): RealReq {
    const rec = this.reqs.get(id);
    assert.ok(rec !== undefined, `no real request #${id}`);
    return rec;
  }
}

function realStatus(rec: RealReq | undefined): Status | 'missing' {
  if (rec === undefined) return 'missing';
  if (rec.status === 'pending') return 'queued';
  if (rec.status === 'rejected') return 'rejected';
  return rec.guard?.held === true ? 'held' : 'released';
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/** Right after a call returns, before any microtask: the counters already match the model. */
function checkNow(m: QueueModel, h: Harness, when: string): void {
  assert.deepEqual(
    h.subject.observe(),
    h.spec.expected(
      m.held.map((req) => req.shape),
      m.queue.length,
    ),
    `${when}: lock state right after the call`,
  );
}

/**
 * Model-free: once microtasks settle, the first waiter (by arrival) does not fit beside the
 * holders, else it was forgotten (a lost wake-up). Uses only what the real lock did.
 */
function checkNoLostWakeup(h: Harness, when: string): void {
  const recs = [...h.reqs.values()];
  const holders = recs.filter((rec) => rec.status === 'granted' && rec.guard?.held === true);
  const pending = recs.filter((rec) => rec.status === 'pending').sort((a, b) => a.id - b.id);
  assert.equal(h.subject.waiting, pending.length, `${when}: .waiting counts the unsettled requests`);
  const head = pending[0];
  if (head === undefined) return;
  const beside = holders.map((rec) => rec.shape);
  assert.ok(
    !fitsBeside(beside, head.shape, h.spec.capacity),
    `${when}: lost wake-up: #${head.id} (${showShape(head.shape)}) is first in line and fits beside [${beside.map(showShape).join(', ')}], but was not granted`,
  );
}

function checkRejection(req: ModelReq, rec: RealReq, when: string): void {
  const rejection = req.rejection;
  assert.ok(rejection !== null);
  if (rejection.kind === 'abort') {
    assert.equal(rec.error, rejection.reason, `${when}: #${req.id} rejects with signal.reason`);
    return;
  }
  const error = rec.error;
  assert.ok(error instanceof LockTimeoutError, `${when}: #${req.id} rejects with LockTimeoutError, got ${String(error)}`);
  assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
  assert.equal(error.timeout, rejection.ms);
}

/** After microtasks settle: grant order, each request's fate, rejection reasons, counters. */
async function checkSettled(m: QueueModel, h: Harness, granted: readonly ModelReq[], when: string): Promise<void> {
  await settle();
  assert.deepEqual(
    h.grants.slice(h.seen),
    granted.map((req) => req.id),
    `${when}: requests granted by this step, in grant order`,
  );
  h.seen = h.grants.length;
  const reqs = [...m.reqs.values()];
  assert.deepEqual(
    reqs.map((req) => `#${req.id} ${realStatus(h.reqs.get(req.id))}`),
    reqs.map((req) => `#${req.id} ${req.status}`),
    `${when}: the fate of every request`,
  );
  for (const req of reqs) if (req.status === 'rejected') checkRejection(req, h.rec(req.id), when);
  checkNow(m, h, `${when} (settled)`);
  checkNoLostWakeup(h, when);
}

async function releaseHolder(m: QueueModel, h: Harness, req: ModelReq, twice: boolean, when: string): Promise<void> {
  const guard = h.rec(req.id).guard;
  assert.ok(guard !== null && guard.held, `${when}: #${req.id} holds a guard`);
  guard.release();
  assert.equal(guard.held, false, `${when}: guard.held after release`);
  if (twice) guard.release(); // idempotent: must not free units a second time
  const granted = m.release(req);
  h.coverage.hit('a release let waiters in', granted.length > 0);
  h.coverage.hit('a release let several waiters in at once', granted.length > 1);
  checkNow(m, h, when);
  await checkSettled(m, h, granted, when);
}

/** Releases every holder until the lock is idle: each waiter left must be granted in turn. */
async function drainAll(m: QueueModel, h: Harness): Promise<void> {
  for (let holder = m.held[0]; holder !== undefined; holder = m.held[0]) {
    await releaseHolder(m, h, holder, false, `teardown: Release(#${holder.id})`);
  }
  assert.equal(m.queue.length, 0, 'model: an idle lock has no waiters');
  assert.deepEqual(h.subject.observe(), h.spec.expected([], 0), 'teardown: the lock is idle');
  for (const rec of h.reqs.values()) {
    assert.ok(rec.status === 'rejected' || rec.guard?.held === false, `teardown: #${rec.id} was granted and released, or rejected`);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<QueueModel, Harness>;

type RequestOption = 'none' | 'signal' | 'sharedSignal' | 'timeout0' | 'preAborted';

class RequestCmd implements Cmd {
  constructor(
    readonly shape: Shape,
    readonly option: RequestOption,
    /** For 'sharedSignal': which of the shared signals. */
    readonly slot = 0,
  ) {}

  check(): boolean {
    return true;
  }

  async run(m: QueueModel, h: Harness): Promise<void> {
    const when = this.toString();
    const fitsNow = m.fits(this.shape);
    let signal: number | null = null;
    if (this.option === 'signal' || this.option === 'preAborted') signal = m.newSignal();
    else if (this.option === 'sharedSignal') signal = m.slotSignal(this.slot);
    const req = m.open(this.shape, signal);
    if (this.option === 'preAborted') {
      h.controller(signal as number).abort(new Error(`aborted before #${req.id} was requested`));
      m.abortedSignals.add(signal as number);
    }
    h.start(req, this.option === 'timeout0' ? { timeout: 0 } : undefined);

    let granted: ModelReq[] = [];
    if (this.option === 'preAborted') {
      m.refuse(req, { kind: 'abort', reason: h.controller(signal as number).signal.reason });
      h.coverage.hit('an already aborted signal was refused');
    } else if (m.grantsOnArrival(this.shape)) {
      m.arrive(req);
      granted = [req];
      h.coverage.hit('granted on arrival');
    } else if (this.option === 'timeout0') {
      m.refuse(req, { kind: 'timeout', ms: 0 });
      h.coverage.hit('timeout 0 was refused');
    } else {
      m.arrive(req);
      h.coverage.hit('queued');
      h.coverage.hit('queued behind waiters although it fits beside the holders', fitsNow);
    }
    checkNow(m, h, when);
    await checkSettled(m, h, granted, when);
  }

  toString(): string {
    return `Request(${showShape(this.shape)}, ${this.option}${this.option === 'sharedSignal' ? ` ${this.slot}` : ''})`;
  }
}

class TryCmd implements Cmd {
  constructor(readonly shape: Shape) {}

  check(): boolean {
    return true;
  }

  async run(m: QueueModel, h: Harness): Promise<void> {
    const when = this.toString();
    const expected = m.grantsOnArrival(this.shape);
    const fitsNow = m.fits(this.shape);
    const waitingBefore = h.subject.waiting;
    const guard = inOtherFlow(() => h.subject.tryAcquire(this.shape));
    assert.equal(guard !== null, expected, `${when}: succeeds exactly when a new request would be granted on arrival`);
    assert.equal(h.subject.waiting, waitingBefore, `${when}: never queues`);
    let granted: ModelReq[] = [];
    if (guard !== null) {
      assert.equal(guard.held, true);
      const req = m.open(this.shape, null);
      m.arrive(req);
      h.reqs.set(req.id, { id: req.id, shape: req.shape, status: 'granted', guard, error: undefined });
      h.grants.push(req.id);
      granted = [req];
      h.coverage.hit('try succeeded');
    } else {
      h.coverage.hit('try refused');
      h.coverage.hit('try refused although it fits beside the holders', fitsNow);
    }
    checkNow(m, h, when);
    await checkSettled(m, h, granted, when);
  }

  toString(): string {
    return `Try(${showShape(this.shape)})`;
  }
}

class ReleaseCmd implements Cmd {
  constructor(
    readonly pick: number,
    readonly twice: boolean,
  ) {}

  check(m: Readonly<QueueModel>): boolean {
    return m.held.length > 0;
  }

  async run(m: QueueModel, h: Harness): Promise<void> {
    const target = m.held[this.pick % m.held.length] as ModelReq;
    await releaseHolder(m, h, target, this.twice, `${this.toString()} = Release(#${target.id})`);
  }

  toString(): string {
    return `Release(holder ${this.pick}${this.twice ? ', twice' : ''})`;
  }
}

/**
 * Coverage only: would cancelling the waiters of `key` one at a time, each followed by a drain,
 * hand the lock to one of those very waiters? That is where "all leave at once" matters.
 */
function siblingWouldSlipIn(m: QueueModel, key: number): boolean {
  const held = m.held.map((req) => req.shape);
  const queue = [...m.queue];
  for (const victim of m.queue.filter((req) => req.signal === key)) {
    const index = queue.indexOf(victim);
    if (index < 0) continue;
    queue.splice(index, 1);
    for (let head = queue[0]; head !== undefined && fitsBeside(held, head.shape, m.capacity); head = queue[0]) {
      if (head.signal === key) return true;
      queue.shift();
      held.push(head.shape);
    }
  }
  return false;
}

/** Aborts a signal: every waiter that passes it must leave; holders that passed it keep their hold. */
async function abortSignal(m: QueueModel, h: Harness, key: number, withReason: boolean, when: string): Promise<void> {
  const headSignal = m.queue[0]?.signal;
  h.coverage.hit('a waiter passing the aborted signal would slip in if its signal’s waiters were cancelled one by one', siblingWouldSlipIn(m, key));
  const controller = h.controller(key);
  if (withReason) controller.abort(new Error(`abort signal ${key}`));
  else controller.abort();
  const { cancelled, granted } = m.abortSignal(key, controller.signal.reason);
  h.coverage.hit('a waiter was aborted', cancelled.length > 0);
  h.coverage.hit('an aborted head let waiters behind it in', headSignal === key && granted.length > 0);
  h.coverage.hit('a signal shared by several waiters was aborted', cancelled.length > 1);
  checkNow(m, h, when);
  await checkSettled(m, h, granted, when);
}

class AbortWaiterCmd implements Cmd {
  constructor(
    /** Which waiter with a signal, counted from the head; 0 is the first one in line. */
    readonly pick: number,
    readonly withReason: boolean,
  ) {}

  check(m: Readonly<QueueModel>): boolean {
    return m.queue.some((req) => req.signal !== null);
  }

  async run(m: QueueModel, h: Harness): Promise<void> {
    const candidates = m.queue.filter((req) => req.signal !== null);
    const target = candidates[this.pick % candidates.length] as ModelReq;
    const key = target.signal as number;
    await abortSignal(m, h, key, this.withReason, `${this.toString()} = abort the signal of #${target.id} (signal ${key})`);
  }

  toString(): string {
    return `AbortWaiter(${this.pick}${this.withReason ? ', with reason' : ''})`;
  }
}

class AbortHolderCmd implements Cmd {
  constructor(readonly pick: number) {}

  check(m: Readonly<QueueModel>): boolean {
    return m.held.some((req) => req.signal !== null && !m.abortedSignals.has(req.signal));
  }

  async run(m: QueueModel, h: Harness): Promise<void> {
    const candidates = m.held.filter((req) => req.signal !== null && !m.abortedSignals.has(req.signal));
    const target = candidates[this.pick % candidates.length] as ModelReq;
    const key = target.signal as number;
    h.coverage.hit('a holder’s signal was aborted');
    // the holder keeps its hold; waiters that share the signal (if any) leave
    await abortSignal(m, h, key, true, `${this.toString()} = abort the signal of holder #${target.id} (signal ${key})`);
    assert.equal(target.status, 'held');
  }

  toString(): string {
    return `AbortHolder(${this.pick})`;
  }
}

/**
 * A request with a short timeout, then (in the same tick) a few requests behind it; the command
 * waits for the timeout to fire. Nothing else happens meanwhile, so the outcome is deterministic.
 */
class TimedBatchCmd implements Cmd {
  constructor(
    readonly timed: Shape,
    readonly ms: number,
    readonly behind: readonly { readonly shape: Shape; readonly abortable: boolean }[],
  ) {}

  check(): boolean {
    return true;
  }

  async run(m: QueueModel, h: Harness): Promise<void> {
    const when = this.toString();
    const timedReq = m.open(this.timed, null);
    const timedRec = h.start(timedReq, { timeout: this.ms });
    const immediate: ModelReq[] = [];
    if (m.arrive(timedReq)) immediate.push(timedReq);
    for (const { shape, abortable } of this.behind) {
      const req = m.open(shape, abortable ? m.newSignal() : null);
      h.start(req, undefined);
      if (m.arrive(req)) immediate.push(req);
    }
    checkNow(m, h, when);
    let drained: ModelReq[] = [];
    if (timedReq.status === 'queued') {
      const wasHead = m.queue[0] === timedReq;
      const started = performance.now();
      while (timedRec.status === 'pending') {
        if (performance.now() - started > 2_000) assert.fail(`${when}: #${timedReq.id} with timeout ${this.ms} ms still waits after 2 s`);
        await sleep(1);
      }
      drained = m.cancel(timedReq, { kind: 'timeout', ms: this.ms });
      h.coverage.hit('a waiter timed out');
      h.coverage.hit('a timed-out head let waiters behind it in', wasHead && drained.length > 0);
    }
    await checkSettled(m, h, [...immediate, ...drained], when);
  }

  toString(): string {
    return `TimedBatch(${showShape(this.timed)} timeout ${this.ms} ms, then [${this.behind.map(({ shape, abortable }) => `${showShape(shape)}${abortable ? ' signal' : ''}`).join(', ')}])`;
  }
}

/**
 * Random command sequences. 'own' signals: each request that passes a signal has one of its own,
 * and timeouts are used too. 'shared' signals: most requests pass one of two shared signals.
 */
function commandsFor(spec: Spec, signals: 'own' | 'shared'): fc.Arbitrary<Iterable<Cmd>> {
  const option =
    signals === 'own'
      ? fc.oneof(
          { arbitrary: fc.constant<RequestOption>('none'), weight: 3 },
          { arbitrary: fc.constant<RequestOption>('signal'), weight: 4 },
          { arbitrary: fc.constant<RequestOption>('timeout0'), weight: 1 },
          { arbitrary: fc.constant<RequestOption>('preAborted'), weight: 1 },
        )
      : fc.oneof(
          { arbitrary: fc.constant<RequestOption>('none'), weight: 2 },
          { arbitrary: fc.constant<RequestOption>('signal'), weight: 1 },
          { arbitrary: fc.constant<RequestOption>('sharedSignal'), weight: 6 },
        );
  const commands: fc.WeightedArbitrary<Cmd>[] = [
    { arbitrary: fc.tuple(spec.shape, option, fc.integer({ min: 0, max: 1 })).map(([shape, opt, slot]): Cmd => new RequestCmd(shape, opt, slot)), weight: 8 },
    { arbitrary: spec.shape.map((shape): Cmd => new TryCmd(shape)), weight: 2 },
    { arbitrary: fc.tuple(fc.nat(), fc.boolean()).map(([pick, twice]): Cmd => new ReleaseCmd(pick, twice)), weight: 9 },
    // half of the aborts hit the first waiter with a signal, which is often the head of the queue
    {
      arbitrary: fc.tuple(fc.oneof(fc.constant(0), fc.nat()), fc.boolean()).map(([pick, withReason]): Cmd => new AbortWaiterCmd(pick, withReason)),
      weight: signals === 'own' ? 4 : 3,
    },
    { arbitrary: fc.nat().map((pick): Cmd => new AbortHolderCmd(pick)), weight: 1 },
  ];
  if (signals === 'own') {
    commands.push({
      arbitrary: fc
        .tuple(spec.shape, fc.integer({ min: 1, max: 5 }), fc.array(fc.record({ shape: spec.shape, abortable: fc.boolean() }), { maxLength: 3 }))
        .map(([timed, ms, behind]): Cmd => new TimedBatchCmd(timed, ms, behind)),
      weight: 2,
    });
  }
  return fc.commands([fc.oneof(...commands)], { maxCommands: 50, size: 'max' });
}

/** Situations every random suite must reach; those needing two holders at once only where possible. */
function requiredCoverage(spec: Spec, signals: 'own' | 'shared'): string[] {
  if (signals === 'shared') {
    return ['a waiter was aborted', 'a signal shared by several waiters was aborted', 'a holder’s signal was aborted'];
  }
  const keys = [
    'granted on arrival',
    'queued',
    'try succeeded',
    'try refused',
    'a release let waiters in',
    'a waiter was aborted',
    'a waiter timed out',
    'timeout 0 was refused',
    'an already aborted signal was refused',
    'a holder’s signal was aborted',
  ];
  if (spec.sharing) {
    keys.push(
      'a release let several waiters in at once',
      'queued behind waiters although it fits beside the holders',
      'try refused although it fits beside the holders',
    );
  }
  return keys;
}

/** Holders that are all granted, and a request that does not fit beside them (it will be the head). */
function blockedHeadFor(spec: Spec): fc.Arbitrary<[Shape[], Shape]> {
  return fc.tuple(fc.array(spec.shape, { minLength: 1, maxLength: 3 }), spec.shape).filter(([before, head]) => {
    const scratch = new QueueModel(spec.capacity);
    for (const shape of before) scratch.arrive(scratch.open(shape, null));
    return scratch.queue.length === 0 && !scratch.fits(head);
  });
}

type HeadCancel = 'abort' | 'timeout' | 'shared-signal abort';

/**
 * A waiter at the head of the queue is aborted, or times out (1-5 ms), with a few waiters behind
 * it; or its signal is aborted while waiters behind it pass the same signal. The random runs
 * cancel waiters anywhere in the queue; these make the head cases common.
 */
function headCancelScenarioFor(spec: Spec, how: HeadCancel): fc.Arbitrary<Cmd[]> {
  const behind = fc.array(fc.record({ shape: spec.shape, abortable: fc.boolean() }), { minLength: 1, maxLength: 4 });
  const sharedBehind = fc.array(
    fc.record({ shape: spec.shape, slot: fc.constantFrom<(number | null)[]>(0, 0, 1, null) }),
    { minLength: 1, maxLength: 4 },
  );
  return fc
    .tuple(blockedHeadFor(spec), behind, sharedBehind, fc.integer({ min: 1, max: 5 }), fc.boolean())
    .map(([[before, head], rest, sharedRest, ms, withReason]) => {
      const holders = before.map((shape): Cmd => new RequestCmd(shape, 'none'));
      if (how === 'timeout') return [...holders, new TimedBatchCmd(head, ms, rest)];
      // the head is the first waiter with a signal, so AbortWaiter(0) aborts its signal
      if (how === 'abort') {
        return [
          ...holders,
          new RequestCmd(head, 'signal'),
          ...rest.map(({ shape, abortable }): Cmd => new RequestCmd(shape, abortable ? 'signal' : 'none')),
          new AbortWaiterCmd(0, withReason),
        ];
      }
      return [
        ...holders,
        new RequestCmd(head, 'sharedSignal', 0),
        ...sharedRest.map(({ shape, slot }): Cmd => (slot === null ? new RequestCmd(shape, 'none') : new RequestCmd(shape, 'sharedSignal', slot))),
        new AbortWaiterCmd(0, withReason),
      ];
    });
}

const HEAD_CANCEL_COVERAGE: Record<HeadCancel, { readonly always: string; readonly sharing: string }> = {
  abort: { always: 'a waiter was aborted', sharing: 'an aborted head let waiters behind it in' },
  timeout: { always: 'a waiter timed out', sharing: 'a timed-out head let waiters behind it in' },
  'shared-signal abort': {
    always: 'a waiter was aborted',
    sharing: 'a waiter passing the aborted signal would slip in if its signal’s waiters were cancelled one by one',
  },
};

const NUM_RUNS = 200;
const HEAD_CANCEL_RUNS = 100;
const SHARED_SIGNAL_RUNS = 100;

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

for (const mode of ['fast', 'checked'] as const) {
  describe(`queue model (${mode} mode)`, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    for (const spec of SPECS) {
      it(`${spec.name}: FIFO grants, no lost wake-up, cancel clean-up and try-acquire match the reference model`, async () => {
        const coverage = new Coverage();
        await fc.assert(
          fc.asyncProperty(commandsFor(spec, 'own'), async (cmds) => {
            const model = new QueueModel(spec.capacity);
            const real = new Harness(spec, spec.create(), coverage);
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            await drainAll(model, real);
          }),
          { numRuns: NUM_RUNS },
        );
        coverage.assertReached(requiredCoverage(spec, 'own'));
      });

      it(`${spec.name}: aborting a signal that several requests share rejects every waiter that passes it, and grants none of them`, async () => {
        const coverage = new Coverage();
        await fc.assert(
          fc.asyncProperty(commandsFor(spec, 'shared'), async (cmds) => {
            const model = new QueueModel(spec.capacity);
            const real = new Harness(spec, spec.create(), coverage);
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            await drainAll(model, real);
          }),
          { numRuns: SHARED_SIGNAL_RUNS },
        );
        coverage.assertReached(requiredCoverage(spec, 'shared'));
      });

      for (const how of ['abort', 'timeout', 'shared-signal abort'] as const) {
        const what = {
          abort: 'is aborted leaves at once, rejects, and lets in those behind it that fit',
          timeout: 'times out leaves at once, rejects, and lets in those behind it that fit',
          'shared-signal abort': 'is aborted takes every waiter that passes the same signal with it, and lets in only those that do not',
        }[how];
        it(`${spec.name}: a waiter at the head that ${what}`, async () => {
          const coverage = new Coverage();
          await fc.assert(
            fc.asyncProperty(headCancelScenarioFor(spec, how), async (cmds) => {
              const model = new QueueModel(spec.capacity);
              const real = new Harness(spec, spec.create(), coverage);
              await fc.asyncModelRun(() => ({ model, real }), cmds);
              await drainAll(model, real);
            }),
            { numRuns: HEAD_CANCEL_RUNS },
          );
          const { always, sharing } = HEAD_CANCEL_COVERAGE[how];
          coverage.assertReached(spec.sharing ? [always, sharing] : [always]);
        });
      }
    }

    // The cancel scenarios, spelled out (the properties above reach them at random).

    it('RwLock: a writer at the head aborts, and the readers queued behind it get in at once', async () => {
      const lock = new RwLock();
      const reader = await lock.read();
      const controller = new AbortController();
      const writer = inOtherFlow(() => lock.write({ signal: controller.signal }));
      const readers = [inOtherFlow(() => lock.read()), inOtherFlow(() => lock.read())];
      await settle();
      assert.equal(lock.waiting, 3);
      assert.equal(lock.readers, 1);
      assert.equal(lock.tryRead(), null, 'a queued writer holds back new readers');
      const reason = new Error('writer gives up');
      controller.abort(reason);
      assert.equal(lock.waiting, 0, 'the writer and the readers behind it left the queue at once');
      assert.equal(lock.readers, 3);
      assert.equal(await rejectionOf(writer), reason);
      for (const guard of await Promise.all(readers)) guard.release();
      reader.release();
      assert.equal(lock.readers, 0);
    });

    it('RwLock: a writer at the head times out, and the readers queued behind it get in', async () => {
      const lock = new RwLock();
      const reader = await lock.read();
      const writer = inOtherFlow(() => lock.write({ timeout: 5 }));
      const readers = [inOtherFlow(() => lock.read()), inOtherFlow(() => lock.read())];
      const error = await rejectionOf(writer);
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
      assert.equal(lock.waiting, 0);
      assert.equal(lock.readers, 3);
      for (const guard of await Promise.all(readers)) guard.release();
      reader.release();
    });

    it('Semaphore: a heavy waiter at the head is not overtaken, and when it aborts the lighter ones behind it get in', async () => {
      const pool = new Semaphore(4);
      const holder = await pool.acquire(2);
      const controller = new AbortController();
      const heavy = inOtherFlow(() => pool.acquire(3, { signal: controller.signal }));
      const light = [inOtherFlow(() => pool.acquire(1)), inOtherFlow(() => pool.acquire(1))];
      await settle();
      assert.equal(pool.available, 2, 'the light waiters fit, but wait behind the heavy one');
      assert.equal(pool.waiting, 3);
      assert.equal(pool.tryAcquire(1), null);
      controller.abort();
      assert.equal(pool.waiting, 0);
      assert.equal(pool.available, 0);
      assert.equal(await rejectionOf(heavy), controller.signal.reason);
      for (const guard of await Promise.all(light)) guard.release();
      holder.release();
      assert.equal(pool.available, 4);
    });

    it('Semaphore: a heavy waiter at the head times out, and the lighter ones behind it get in', async () => {
      const pool = new Semaphore(4);
      const holder = await pool.acquire(2);
      const heavy = inOtherFlow(() => pool.acquire(3, { timeout: 5 }));
      const light = [inOtherFlow(() => pool.acquire(1)), inOtherFlow(() => pool.acquire(1)), inOtherFlow(() => pool.acquire(1))];
      const error = await rejectionOf(heavy);
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
      await settle();
      assert.equal(pool.available, 0, 'two of the light waiters got in');
      assert.equal(pool.waiting, 1, 'the third still waits');
      const [first, second, third] = light;
      assert.ok(first && second && third);
      (await first).release();
      (await second).release();
      (await third).release();
      holder.release();
      assert.equal(pool.available, 4);
    });

    it('RwLock: aborting a signal shared by a queued writer and a reader behind it rejects both; the reader is not granted', async () => {
      const lock = new RwLock();
      const reader = await lock.read();
      const controller = new AbortController();
      const writer = inOtherFlow(() => lock.write({ signal: controller.signal }));
      const sibling = inOtherFlow(() => lock.read({ signal: controller.signal }));
      await settle();
      assert.equal(lock.waiting, 2);
      const reason = new Error('the whole operation is cancelled');
      controller.abort(reason);
      const outcome = await Promise.allSettled([writer, sibling]);
      for (const result of outcome) if (result.status === 'fulfilled') result.value.release(); // do not leak a wrongly granted hold
      assert.deepEqual(
        outcome.map((result) => result.status),
        ['rejected', 'rejected'],
        'both waiters passed the aborted signal',
      );
      assert.equal(lock.readers, 1);
      reader.release();
    });

    it('Semaphore: aborting a signal shared by a heavy waiter and a light one behind it rejects both; the light one is not granted', async () => {
      const pool = new Semaphore(3);
      const holder = await pool.acquire(2);
      const controller = new AbortController();
      const heavy = inOtherFlow(() => pool.acquire(3, { signal: controller.signal }));
      const light = inOtherFlow(() => pool.acquire(1, { signal: controller.signal }));
      await settle();
      assert.equal(pool.waiting, 2);
      controller.abort();
      const outcome = await Promise.allSettled([heavy, light]);
      for (const result of outcome) if (result.status === 'fulfilled') result.value.release();
      assert.deepEqual(
        outcome.map((result) => result.status),
        ['rejected', 'rejected'],
        'both waiters passed the aborted signal',
      );
      assert.equal(pool.available, 1);
      holder.release();
    });
  });
}
