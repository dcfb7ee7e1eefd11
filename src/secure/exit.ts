import { constants } from 'node:os';
import { purge } from './registry.js';

/**
 * Purges every secure buffer (wiped and freed; the coffer re-keyed), then exits. A purge that
 * could not destroy some buffer is reported on stderr and makes the exit code 1 at least: the
 * process must not end quietly with a secret it could not wipe. Bounded: each buffer gets
 * `timeout` ms (default 1 000) to finish its callbacks.
 *
 * @example
 * await safeExit(0);
 */
export async function safeExit(code = 0, options?: { timeout?: number }): Promise<never> {
  let exitCode = code;
  try {
    await purge({ timeout: options?.timeout ?? 1_000 });
  } catch (error) {
    process.stderr.write(`deadbolt/secure: safeExit could not wipe everything: ${error instanceof Error ? error.message : String(error)}\n`);
    if (exitCode === 0) exitCode = 1;
  }
  process.exit(exitCode);
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * On SIGINT, SIGTERM or SIGHUP (or the given signals), runs `handler` (if any), then
 * `safeExit(128 + signal number)`, as shells report a death by signal. Returns a function that
 * removes the listeners. A second signal while exiting is ignored, so a double Ctrl-C cannot
 * skip the purge.
 *
 * @example
 * catchSignals((signal) => log.info(`wiping secrets on ${signal}`));
 */
export function catchSignals(handler?: (signal: NodeJS.Signals) => void | Promise<void>, signals: readonly NodeJS.Signals[] = DEFAULT_SIGNALS): () => void {
  if (handler !== undefined && typeof handler !== 'function') throw new TypeError('catchSignals(handler): handler must be a function');
  let exiting = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (exiting) return;
    exiting = true;
    void (async () => {
      try {
        await handler?.(signal);
      } catch (error) {
        process.stderr.write(`deadbolt/secure: signal handler failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
      await safeExit(128 + (constants.signals[signal] ?? 0));
    })();
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}
