import { crossProcessDeadlock } from './fs-reports.js';
import { addWait, chooseVictim, findCrossProcessCycle, newWaitId, removeWait, type PublishedHold } from './wait-registry.js';

/** A cross-process cycle is looked for this often, and must be seen on two passes to count. */
const DETECT_EVERY_MS = 15;
/** A cycle whose chosen victim has not given way after this long is broken by any member. */
const VICTIM_GRACE_MS = 1_000;

/**
 * Publishes one flow's wait for a file lock (with the file locks it holds) and watches for a
 * cross-process cycle through it until stopped. The wait may be at the OS level or in this
 * process's queue behind another flow: either way the flow is blocked on the lock's holders.
 * If the cycle is confirmed (seen on two passes, since processes publish at different moments)
 * and this wait is the victim (it began last), `onDeadlock` gets the DeadlockError, once.
 *
 * @returns stop: removes the published wait and the timer.
 */
export function watchForCycle(path: string, mode: 'exclusive' | 'shared', label: string, holds: readonly PublishedHold[], onDeadlock: (error: Error) => void): () => void {
  const id = newWaitId();
  addWait({ id, path, mode, label, since: Date.now(), holds });
  let cycleKey = '';
  let cycleSeen = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    const cycle = findCrossProcessCycle(id);
    if (cycle === null) {
      cycleKey = '';
      return;
    }
    const key = cycle
      .map((member) => member.wait.id)
      .sort()
      .join(' ');
    if (key !== cycleKey) {
      cycleKey = key;
      cycleSeen = now;
      return;
    }
    if (chooseVictim(cycle).wait.id === id || now - cycleSeen > VICTIM_GRACE_MS) {
      stop();
      onDeadlock(crossProcessDeadlock(cycle, now));
    }
  }, DETECT_EVERY_MS);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    removeWait(id);
  };
  return stop;
}
