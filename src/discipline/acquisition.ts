import type { LockOrderError } from './errors.js';
import type { LockClass } from './lock-class.js';
import type { CapturedStack } from './stack.js';
import { state } from './state.js';

/** Lifecycle of one acquisition, as the engine sees it. */
export const enum AcqState {
  Waiting = 0,
  Held = 1,
  Released = 2,
  Cancelled = 3,
  /** Given up for a `Condition.wait`; held again once the wait re-acquires. */
  Suspended = 4,
}

export type AcqMode = 'exclusive' | 'shared';

/** What the wait-for graph needs from a lock about one queued request. */
export interface Blockers {
  /** Tracked holders whose release could let the request in. */
  readonly holders: readonly Acquisition[];
  /** Units held by holders the engine does not know (acquired while checks were off). */
  readonly untracked: number;
  /** Queued requests that must be granted before this one (FIFO). */
  readonly ahead: readonly Acquisition[];
  /** Units that holders must release before the request fits (<= 0: only `ahead` blocks it). */
  readonly required: number;
}

class RareState {
  blockedRequests: Set<Acquisition> | null = null;
  blocking: Acquisition[] | null = null;
  violation: LockOrderError | null = null;
  warnedLongHold = false;
}

/** The narrow face a lock shows the engine: its class, a label, and who blocks a request. */
export interface TrackedLock {
  readonly lockClass: LockClass;
  /** For reports, e.g. `Mutex "coffer"` or `RwLock "registry"`. */
  readonly label: string;
  /** Stable per-instance order, used by lockAll after rank. */
  readonly instanceId: number;
  blockers(request: Acquisition): Blockers;
}

/**
 * One request for a lock by one flow. It is mutable (waiting, held, released), so a released
 * record found in a flow's context is simply ignored. In checked mode the guard a lock hands out
 * is this record itself (a subclass), which saves an allocation per acquisition.
 */
export class Acquisition implements FlowContext {
  state: AcqState = AcqState.Waiting;
  /** Stack of the request or acquisition, when it was captured (see `StackPolicy`). */
  site: CapturedStack | undefined = undefined;
  /** Watchdog tick and coarse time of the grant. */
  grantTick = 0;
  grantTime = 0;
  /** async id of the promise whose continuation holds this acquisition (0: none). */
  promiseId = 0;
  /** Intrusive list of held acquisitions, for the watchdog. */
  prevHeld: Acquisition | null = null;
  nextHeld: Acquisition | null = null;
  /** State only slow paths need, allocated on first write to keep the common record small. */
  /** @internal */
  rare: RareState | null = null;

  /** Unique in the process; reports name acquisitions by it. */
  readonly id: number;

  constructor(
    readonly lock: TrackedLock,
    readonly mode: AcqMode,
    readonly weight: number,
    /** Set for the acquisitions of one lockAll call: they may share a class. */
    readonly bundle: object | null,
  ) {
    this.id = state.nextId++;
  }

  /** Queued requests whose flow holds this acquisition (that flow is blocked on them). */
  get blockedRequests(): Set<Acquisition> | null {
    return this.rare === null ? null : this.rare.blockedRequests;
  }

  set blockedRequests(value: Set<Acquisition> | null) {
    (this.rare ??= new RareState()).blockedRequests = value;
  }

  /** While queued: the held acquisitions this request registered itself with. */
  get blocking(): Acquisition[] | null {
    return this.rare === null ? null : this.rare.blocking;
  }

  set blocking(value: Acquisition[] | null) {
    (this.rare ??= new RareState()).blocking = value;
  }

  /** An order rule this request breaks; thrown unless the wait-for graph finds a real deadlock. */
  get violation(): LockOrderError | null {
    return this.rare === null ? null : this.rare.violation;
  }

  set violation(value: LockOrderError | null) {
    (this.rare ??= new RareState()).violation = value;
  }

  get warnedLongHold(): boolean {
    return this.rare !== null && this.rare.warnedLongHold;
  }

  set warnedLongHold(value: boolean) {
    (this.rare ??= new RareState()).warnedLongHold = value;
  }

  /** As a FlowContext: the context of a flow that holds only this acquisition. */
  get acq(): Acquisition {
    return this;
  }

  get parent(): null {
    return null;
  }

  /** The captured stack as text, if any. */
  get stack(): string | undefined {
    return this.site?.text;
  }

  get lockClass(): LockClass {
    return this.lock.lockClass;
  }
}

/**
 * A flow's context: a persistent list of the acquisitions it holds (released ones are skipped).
 * An acquisition is itself the context of a flow that holds only it, so the common case (one
 * lock held at a time) allocates no list node.
 */
export interface FlowContext {
  readonly acq: Acquisition;
  readonly parent: FlowContext | null;
}

class ContextNode implements FlowContext {
  constructor(
    readonly acq: Acquisition,
    readonly parent: FlowContext | null,
  ) {}
}

/** `ctx` with `acq` added on top. */
export function pushContext(ctx: FlowContext | null | undefined, acq: Acquisition): FlowContext {
  return ctx === null || ctx === undefined ? acq : new ContextNode(acq, ctx);
}

export function isLive(acq: Acquisition): boolean {
  return acq.state === AcqState.Held || acq.state === AcqState.Waiting || acq.state === AcqState.Suspended;
}

/** The acquisitions a context holds right now, oldest first. */
export function heldIn(ctx: FlowContext | null | undefined): Acquisition[] {
  const out: Acquisition[] = [];
  for (let node = ctx; node; node = node.parent) {
    if (node.acq.state === AcqState.Held) out.push(node.acq);
  }
  return out.reverse();
}
