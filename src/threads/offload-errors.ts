import { DeadboltError } from '../discipline/errors.js';

/**
 * Offloaded work that did not finish within its `timeout`. The task was cancelled: a task still
 * queued was removed from the queue, a running one had its worker thread terminated (the pool
 * starts a fresh worker, and a shared lock the task held is taken over by the next acquirer with
 * `ownerDied` set).
 *
 * @example
 * const key = await offload(kdf, input, { timeout: 2_000 }).catch((error) => {
 *   if (error instanceof OffloadTimeoutError) metrics.increment('kdf.timeout');
 *   throw error;
 * });
 */
export class OffloadTimeoutError extends DeadboltError {
  readonly code = 'ERR_OFFLOAD_TIMEOUT' as const;
  override readonly name = 'OffloadTimeoutError';

  constructor(
    /** The task, e.g. `"kdf.mjs"` or `"seal.mjs#open"`. */
    readonly task: string,
    readonly timeout: number,
  ) {
    super(
      'ERR_OFFLOAD_TIMEOUT',
      `offloaded task ${task} did not finish within ${timeout} ms`,
      `The task ${task} was given ${timeout} ms and was cancelled: removed from the queue if it had not started, else its worker thread was terminated (the pool replaces it; shared locks the task held pass to their next acquirer with ownerDied set).\nRaise the timeout if this much work is expected, or split the work.`,
    );
  }

  static override readonly CODE = 'ERR_OFFLOAD_TIMEOUT';
}

/**
 * `run()` on an offload pool that was closed or destroyed.
 *
 * @example
 * await pool.close();
 * await pool.run(input); // rejects with OffloadClosedError (code ERR_OFFLOAD_CLOSED)
 */
export class OffloadClosedError extends DeadboltError {
  readonly code = 'ERR_OFFLOAD_CLOSED' as const;
  override readonly name = 'OffloadClosedError';

  constructor(
    /** The pool's task, e.g. `"kdf.mjs"`. */
    readonly task: string,
  ) {
    super('ERR_OFFLOAD_CLOSED', `the offload pool of ${task} is closed`, `The pool running ${task} was closed or destroyed; work can no longer be sent to it. Create a new OffloadPool, or use offload(), whose default pools stay open.`);
  }

  static override readonly CODE = 'ERR_OFFLOAD_CLOSED';
}
