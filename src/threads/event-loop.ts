import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { LockRef } from '../discipline/errors.js';
import { channels, publish } from '../discipline/events.js';
import { state } from '../discipline/state.js';
import { locksDuringStall } from './event-loop-locks.js';

/**
 * Event-loop delay in ms: how late the loop ran a timer due every `resolution` ms. These are
 * delays beyond the resolution (perf_hooks' histogram records whole intervals, so an idle loop
 * would read as `resolution` ms late); NaN until the first sample.
 */
export interface EventLoopStats {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Samples taken (about one per `resolution` ms while the loop runs freely). */
  readonly count: number;
}

/** One stall: the event loop did not run for `blockedMs` > `thresholdMs`. */
export interface StallReport {
  /** ms the loop was blocked (at least; the detector's own interval may hide up to one interval of it). */
  readonly blockedMs: number;
  /** Epoch ms when the stall was seen to end. */
  readonly at: number;
  /** Locks this thread held during the stall (checked mode: all of them; fast mode: shared locks only). */
  readonly locks: readonly LockRef[];
  /** Multi-line: how long, which locks were held and where they were acquired. */
  readonly report: string;
}

export interface WatchEventLoopOptions {
  /** A stall longer than this many ms is reported. */
  readonly thresholdMs: number;
  /** Sampling interval of the delay histogram, in whole ms (default 10; 1 is the finest). */
  readonly resolution?: number;
  /** How many of the latest stalls `stalls` keeps (default 20). */
  readonly keep?: number;
  /** Called with each stall, after it is recorded and published. */
  readonly onStall?: (stall: StallReport) => void;
}

const KNOWN_KEYS = new Set(['thresholdMs', 'resolution', 'keep', 'onStall']);

interface Parsed {
  readonly thresholdMs: number;
  readonly resolution: number;
  readonly keep: number;
  readonly onStall: ((stall: StallReport) => void) | undefined;
}

function parseOptions(options: WatchEventLoopOptions): Parsed {
  if (options === null || typeof options !== 'object') throw new TypeError(`watchEventLoop(options): options must be an object with thresholdMs, got ${String(options)}`);
  for (const key of Object.keys(options)) if (!KNOWN_KEYS.has(key)) throw new TypeError(`watchEventLoop(): unknown option ${JSON.stringify(key)}`);
  const { thresholdMs, resolution = 10, keep = 20, onStall } = options;
  if (typeof thresholdMs !== 'number' || !Number.isFinite(thresholdMs) || thresholdMs <= 0) {
    throw new RangeError(`watchEventLoop(): thresholdMs must be a positive finite number of ms, got ${String(thresholdMs)}`);
  }
  if (typeof resolution !== 'number' || !Number.isInteger(resolution) || resolution < 1 || resolution > 2 ** 31 - 1) {
    throw new RangeError(`watchEventLoop(): resolution must be a whole number of ms, at least 1, got ${String(resolution)}`);
  }
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 0) throw new RangeError(`watchEventLoop(): keep must be a non-negative integer, got ${String(keep)}`);
  if (onStall !== undefined && typeof onStall !== 'function') throw new TypeError('watchEventLoop(): onStall must be a function');
  return { thresholdMs, resolution, keep, onStall };
}

/** Short enough to see a stall soon after it ends; the measured drift is short by up to one interval. */
function detectorInterval(thresholdMs: number): number {
  return Math.max(1, Math.min(100, Math.floor(thresholdMs / 4)));
}

/**
 * A running event-loop watch (see `watchEventLoop`). Neither its histogram nor its detector keeps
 * the process alive.
 */
export class EventLoopWatch implements Disposable {
  readonly #histogram: IntervalHistogram;
  readonly #options: Parsed;
  readonly #interval: number;
  #timer: NodeJS.Timeout | null;
  #last: number;
  /** The engine's release count at the last check: releases since then happened during a stall found now. */
  #lastRelease = 0;
  #stalls: StallReport[] = [];

  /** @internal Use watchEventLoop(). */
  constructor(options: Parsed) {
    this.#options = options;
    this.#histogram = monitorEventLoopDelay({ resolution: options.resolution });
    this.#histogram.enable();
    this.#interval = detectorInterval(options.thresholdMs);
    this.#last = performance.now();
    this.#lastRelease = state.recentReleases.total;
    this.#timer = setInterval(() => this.#check(), this.#interval);
    state.stallWatches++;
    this.#timer.unref();
  }

  #check(): void {
    const now = performance.now();
    const blockedMs = Math.round(now - this.#last - this.#interval);
    const sinceRelease = this.#lastRelease;
    this.#last = now;
    this.#lastRelease = state.recentReleases.total;
    if (blockedMs <= this.#options.thresholdMs) return;
    const stall = stallReport(blockedMs, this.#options.thresholdMs, sinceRelease);
    this.#stalls.push(stall);
    if (this.#stalls.length > this.#options.keep) this.#stalls.splice(0, this.#stalls.length - this.#options.keep);
    publish(channels.eventLoopStall, stall);
    this.#options.onStall?.(stall);
  }

  /** Delay percentiles since the watch began or was last reset. */
  stats(): EventLoopStats {
    const h = this.#histogram;
    const count = h.count;
    const delay = (ns: number): number => (count === 0 ? Number.NaN : Math.max(0, ns / 1e6 - this.#options.resolution));
    return { min: delay(h.min), mean: delay(h.mean), p50: delay(h.percentile(50)), p90: delay(h.percentile(90)), p99: delay(h.percentile(99)), max: delay(h.max), count };
  }

  /** The latest stalls (at most `keep`), oldest first. */
  get stalls(): readonly StallReport[] {
    return [...this.#stalls];
  }

  /** True until `stop()`. */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Clears the histogram and the kept stalls; the watch goes on. */
  reset(): void {
    this.#histogram.reset();
    this.#stalls = [];
    this.#last = performance.now();
    this.#lastRelease = state.recentReleases.total;
  }

  /** Stops sampling and detecting (idempotent); `stats()` and `stalls` keep their last values. */
  stop(): void {
    if (this.#timer === null) return;
    clearInterval(this.#timer);
    this.#timer = null;
    state.stallWatches--;
    this.#histogram.disable();
  }

  /** `stop()`, for `using`. */
  [Symbol.dispose](): void {
    this.stop();
  }
}

function stallReport(blockedMs: number, thresholdMs: number, sinceRelease: number): StallReport {
  const at = Date.now();
  const { locks, lines } = locksDuringStall(sinceRelease);
  const text = [`The event loop was blocked for ~${blockedMs} ms (thresholdMs is ${thresholdMs}), until ${new Date(at).toISOString()}.`];
  if (lines.length > 0) text.push('Locks held by this thread during the stall:', ...lines);
  else text.push(state.config.checks ? 'This thread held no lock during the stall.' : 'No shared lock was held. Lock tracking is off (checked mode names the locks).');
  text.push(lines.length > 0 ? 'Every flow waiting for these locks waited out the stall too. Move heavy synchronous work out of the critical section, or offload() it.' : 'Move heavy synchronous work off the event loop (offload() it), or split it.');
  if (lines.length > 0 && !state.config.checks) text.push('Lock tracking is off: only shared locks are named (checked mode names every lock).');
  return { blockedMs, at, locks, report: text.join('\n') };
}

/**
 * Watches this thread's event loop: delay percentiles (perf_hooks' `monitorEventLoopDelay`,
 * sampled every `resolution` ms) and stalls longer than `thresholdMs` (an unref'd interval that
 * measures its own drift).
 *
 * Each stall becomes a `StallReport` naming the locks this thread held during it: in checked
 * mode every held lock (core and shared), also one taken and released within the stall, with
 * where it was acquired; in fast mode only the shared locks this thread holds when the stall ends
 * (their in-thread cores count their holds; nothing else is tracked). It is kept (the
 * latest `keep`), published on `channels.eventLoopStall`, and passed to `onStall`. The watch never
 * keeps the process alive; `stop()` (or `using`) ends it. Bad options throw RangeError (or
 * TypeError) naming the option.
 *
 * @example
 * using watch = watchEventLoop({ thresholdMs: 50, resolution: 1, onStall: (s) => log.warn(s.report) });
 * await serveForAWhile();
 * const { p99, max } = watch.stats(); // ms beyond the resolution
 */
export function watchEventLoop(options: WatchEventLoopOptions): EventLoopWatch {
  return new EventLoopWatch(parseOptions(options));
}
