/**
 * Helpers shared by the deadbolt/threads benchmark children (plain node, no tsx): the floor mutex
 * and a start barrier for worker threads.
 */

/**
 * The floor: the classic three-state futex mutex (Drepper, "Futexes Are Tricky") on word 0 of an
 * Int32Array over a SharedArrayBuffer. 0 = free, 1 = locked, 2 = locked with (possible) waiters.
 */
export function floorLock(word) {
  let c = Atomics.compareExchange(word, 0, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(word, 0, 2);
  while (c !== 0) {
    Atomics.wait(word, 0, 2);
    c = Atomics.exchange(word, 0, 2);
  }
}

export function floorUnlock(word) {
  if (Atomics.exchange(word, 0, 0) === 2) Atomics.notify(word, 0, 1);
}

/** Whether V8's Atomics.Mutex (behind --harmony-struct on Node 20) exists in this process. */
export function hasAtomicsMutex() {
  return typeof (/** @type {{ Mutex?: unknown }} */ (Atomics).Mutex) === 'function';
}

/**
 * Blocks until `parties` threads have arrived at word `index` of `ctl` (which the coordinator
 * zeroes before it starts the threads).
 */
export function barrier(ctl, index, parties) {
  const arrived = Atomics.add(ctl, index, 1) + 1;
  if (arrived === parties) {
    Atomics.notify(ctl, index);
    return;
  }
  for (let seen = arrived; seen < parties; seen = Atomics.load(ctl, index)) Atomics.wait(ctl, index, seen);
}
