import { heldIn } from '../discipline/acquisition.js';
import { channels, publish, warn } from '../discipline/events.js';
import { currentContext } from '../discipline/flow.js';
import { heldSection, lockRef } from '../discipline/report.js';
import { indentStack, type CapturedStack } from '../discipline/stack.js';
import { state } from '../discipline/state.js';

/** Process warnings already printed, by task and held lock classes: each finding is printed once. */
const warned = new Set<string>();

/**
 * Checked mode's "heavy work under a lock" finding: the calling flow holds locks while it calls
 * (`how: 'called'`) or awaits (`'awaited'`) offloaded work. Offloading keeps the event loop free,
 * but the flow keeps its locks for the whole task, so everyone waiting for them waits for the
 * task too. Publishes on `channels.offloadUnderLock` every time; prints a process warning once
 * per task and set of lock classes. `site` is where the task was called (an await runs from a
 * promise job, whose stack has no user frames). Returns whether it reported.
 */
export function reportOffloadUnderLock(task: string, how: 'called' | 'awaited', site: CapturedStack): boolean {
  const held = heldIn(currentContext());
  if (held.length === 0) return false;
  const report = [
    heldSection(`offload task ${task} was ${how} while this flow holds:`, held),
    how === 'called' ? 'and the task was called at:' : 'and awaited; the task was called at:',
    indentStack(site.text, '    ', '(no user frames on the stack)'),
    '',
    'The task runs on another thread, but this flow keeps these locks until it ends: every flow waiting for them waits for the task too (heavy work under a lock).',
    'Fix: copy what the task needs, release the locks, await the task, then lock again to store its result.',
  ].join('\n');
  publish(channels.offloadUnderLock, { task, locks: held.map(lockRef), report });
  const key = `offload:${task}:${held.map((acq) => acq.lockClass.id).join(',')}`;
  if (state.config.warnings && !warned.has(key)) {
    warned.add(key);
    warn(key, 'DEADBOLT_OFFLOAD_UNDER_LOCK', report);
  }
  return true;
}

/**
 * The promise `run()` returns in checked mode: awaiting it (or `.then`, `Promise.all`, ...) while
 * the awaiting flow holds locks is reported, once per task run. `await` calls `then` on a promise
 * subclass from a job that runs in the awaiting flow's context, so the held set read there is the
 * awaiter's. Derived promises are plain promises (species), so only the first link checks.
 */
export class OffloadPromise<T> extends Promise<T> {
  #pending: (() => boolean) | null = null;

  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  /** A promise whose awaiters are checked with `check` until it reports once. */
  static checked<T>(executor: (resolve: (value: T) => void, reject: (reason: unknown) => void) => void, check: () => boolean): OffloadPromise<T> {
    const promise = new OffloadPromise<T>(executor);
    promise.#pending = check;
    return promise;
  }

  override then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    const check = this.#pending;
    if (check !== null && state.config.checks && check()) this.#pending = null;
    return super.then(onFulfilled, onRejected);
  }
}
