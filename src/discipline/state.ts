import type { AsyncHook } from 'node:async_hooks';
import type { Acquisition } from './acquisition.js';
import { initialConfig, type DeadboltConfig } from './config.js';
import type { LockClass } from './lock-class.js';

/**
 * The engine's process-global state. It lives on `globalThis` under a registered symbol, so two
 * copies of the package (the ESM and CJS builds, or two installed versions with this layout)
 * share one order graph, one set of classes and one flow-tracking hook.
 */
export interface EngineState {
  config: DeadboltConfig;
  nextId: number;
  readonly classesByName: Map<string, LockClass>;
  readonly classesBySite: Map<string, LockClass>;
  readonly classes: LockClass[];
  /** async id of an acquisition promise -> what its continuation acquires. */
  readonly continuations: Map<number, Acquisition | Acquisition[]>;
  /** The newest acquisition promise's async id and what it carries (see flow.ts). */
  slotId: number;
  slotTag: Acquisition | Acquisition[] | null;
  /** Set just before an acquisition promise is created; the init hook files it under its id. */
  pendingTag: Acquisition | Acquisition[] | null;
  hook: AsyncHook | null;
  /** Held acquisitions, newest first (intrusive list through Acquisition.prevHeld/nextHeld). */
  heldHead: Acquisition | null;
  /** Watchdog clock: ticks and coarse time, advanced by an unref'd interval. */
  tick: number;
  now: number;
  watchdog: NodeJS.Timeout | null;
  watchdogInterval: number;
  /** Acquisitions released in the same watchdog tick they were granted (bounded sample). */
  readonly sameTickReleases: Acquisition[];
  /**
   * The latest releases in checked mode (a ring of RECENT_RELEASES), each with its sequence
   * number (`total` so far): a stall report names the locks released since its watch last looked,
   * which were taken and released within the stall (or just before it).
   */
  readonly recentReleases: { readonly acqs: (Acquisition | undefined)[]; readonly seqs: Float64Array; total: number };
  /** Running event-loop watches (deadbolt/threads): releases are remembered only while one runs. */
  stallWatches: number;
  /** Potential-deadlock edges already warned about (onPotentialDeadlock: 'warn'). */
  readonly warnedEdges: Set<string>;
  /** Last time a process warning was printed, per warning key, to rate-limit them. */
  readonly lastWarning: Map<string, number>;
}

/** Releases remembered for stall reports (a power of two). */
export const RECENT_RELEASES = 64;

const STATE_KEY = Symbol.for('deadbolt.engine.v1');

function createState(): EngineState {
  return {
    config: initialConfig(),
    nextId: 1,
    classesByName: new Map(),
    classesBySite: new Map(),
    classes: [],
    continuations: new Map(),
    pendingTag: null,
    slotId: 0,
    slotTag: null,
    hook: null,
    heldHead: null,
    tick: 0,
    now: Date.now(),
    watchdog: null,
    watchdogInterval: 0,
    sameTickReleases: [],
    recentReleases: { acqs: new Array<Acquisition | undefined>(RECENT_RELEASES), seqs: new Float64Array(RECENT_RELEASES), total: 0 },
    stallWatches: 0,
    warnedEdges: new Set(),
    lastWarning: new Map(),
  };
}

const globalSlot = globalThis as unknown as Record<symbol, EngineState | undefined>;

export const state: EngineState = (globalSlot[STATE_KEY] ??= createState());

/** The symbol under which each async resource carries its flow context. */
export const CONTEXT = Symbol.for('deadbolt.context.v1');

export function nextId(): number {
  return state.nextId++;
}
