import { AcqState, type Acquisition } from './acquisition.js';
import { channels, publish, warn } from './events.js';
import { describeWithStack, lockRef } from './report.js';
import { RECENT_RELEASES, state } from './state.js';

/**
 * The watchdog keeps a coarse clock in checked mode (so grants need no clock read: Date.now()
 * would cost a fifth of a checked acquisition), reports locks held longer
 * than `holdWarnMs`, and reports an event loop blocked longer than `loopBlockWarnMs` while
 * locks were held. It is an unref'd interval: it never keeps the process alive.
 */
const SAME_TICK_SAMPLE = 16;

export function heldListAdd(acq: Acquisition): void {
  acq.grantTick = state.tick;
  acq.grantTime = state.now;
  acq.prevHeld = null;
  acq.nextHeld = state.heldHead;
  if (state.heldHead !== null) state.heldHead.prevHeld = acq;
  state.heldHead = acq;
}

export function heldListRemove(acq: Acquisition): void {
  if (acq.prevHeld !== null) acq.prevHeld.nextHeld = acq.nextHeld;
  else if (state.heldHead === acq) state.heldHead = acq.nextHeld;
  else return;
  if (acq.nextHeld !== null) acq.nextHeld.prevHeld = acq.prevHeld;
  acq.prevHeld = acq.nextHeld = null;
  if (state.stallWatches > 0) rememberRelease(acq);
  if (acq.grantTick === state.tick && state.config.loopBlockWarnMs > 0) noteSameTickRelease(acq);
}

/** For stall reports: a ring of the latest releases, kept while an event-loop watch runs. */
function rememberRelease(acq: Acquisition): void {
  const recent = state.recentReleases;
  const at = recent.total % RECENT_RELEASES;
  recent.acqs[at] = acq;
  recent.seqs[at] = recent.total++;
}

/** A hold that began and ended within one watchdog tick: a suspect if the loop turns out blocked. */
function noteSameTickRelease(acq: Acquisition): void {
  const sample = state.sameTickReleases;
  for (const seen of sample) if (seen.lock.lockClass === acq.lock.lockClass) return;
  if (sample.length < SAME_TICK_SAMPLE) sample.push(acq);
}

/** With both reports off the watchdog still keeps the coarse clock that grants read. */
const CLOCK_ONLY_INTERVAL = 100;

function intervalFor(holdWarnMs: number, loopBlockWarnMs: number): number {
  const limits = [holdWarnMs, loopBlockWarnMs].filter((ms) => ms > 0);
  if (limits.length === 0) return CLOCK_ONLY_INTERVAL;
  return Math.min(250, Math.max(10, Math.floor(Math.min(...limits) / 4)));
}

function tick(): void {
  const now = Date.now();
  const blockedMs = now - state.now - state.watchdogInterval;
  const previousTick = state.tick;
  state.tick++;
  state.now = now;
  const { loopBlockWarnMs, holdWarnMs } = state.config;
  if (loopBlockWarnMs > 0 && blockedMs > loopBlockWarnMs) {
    const suspects: Acquisition[] = [...state.sameTickReleases];
    for (let acq = state.heldHead; acq !== null; acq = acq.nextHeld) if (acq.grantTick <= previousTick) suspects.push(acq);
    if (suspects.length > 0) reportLoopBlocked(blockedMs, suspects);
  }
  state.sameTickReleases.length = 0;
  if (holdWarnMs > 0) {
    for (let acq = state.heldHead; acq !== null; acq = acq.nextHeld) {
      if (!acq.warnedLongHold && acq.state === AcqState.Held && now - acq.grantTime > holdWarnMs) {
        acq.warnedLongHold = true;
        reportLongHold(acq, now - acq.grantTime);
      }
    }
  }
}

function reportLongHold(acq: Acquisition, heldMs: number): void {
  const report = `${acq.lock.label} has been held for ~${heldMs} ms (holdWarnMs is ${state.config.holdWarnMs}).\n${describeWithStack(acq, '  ', 'acquired')}`;
  publish(channels.longHold, { lock: acq.lock.label, className: acq.lockClass.name, heldMs, stack: acq.stack, report });
  warn(`hold:${acq.lockClass.id}`, 'DEADBOLT_LONG_HOLD', report);
}

function reportLoopBlocked(blockedMs: number, suspects: Acquisition[]): void {
  const report = `The event loop was blocked for ~${blockedMs} ms while these locks were held (loopBlockWarnMs is ${state.config.loopBlockWarnMs}):\n${suspects
    .map((acq) => describeWithStack(acq, '  ', 'acquired'))
    .join('\n')}\nMove heavy synchronous work out of the critical section, or offload it.`;
  publish(channels.loopBlocked, { blockedMs, locks: suspects.map(lockRef), report });
  warn('loop-blocked', 'DEADBOLT_LOOP_BLOCKED', report);
}

/** Starts, restarts or stops the watchdog to match the configuration. */
export function syncWatchdog(): void {
  const { checks, holdWarnMs, loopBlockWarnMs } = state.config;
  const interval = checks ? intervalFor(holdWarnMs, loopBlockWarnMs) : 0;
  if (interval === state.watchdogInterval && (interval === 0) === (state.watchdog === null)) return;
  if (state.watchdog !== null) clearInterval(state.watchdog);
  state.watchdog = null;
  state.watchdogInterval = interval;
  state.now = Date.now();
  if (interval > 0) {
    state.watchdog = setInterval(tick, interval);
    state.watchdog.unref();
  }
}
