import { getConfig } from '../discipline/engine.js';

/** Options of every acquisition that may wait. */
export interface AcquireOptions {
  /**
   * Milliseconds to wait before rejecting with `LockTimeoutError` (`Infinity`: no limit; `0`:
   * only succeed without waiting). Defaults to `configure({ defaultTimeout })`, itself Infinity.
   */
  readonly timeout?: number;
  /** Aborting rejects the wait with `signal.reason` and removes the waiter at once. */
  readonly signal?: AbortSignal;
}

export interface ParsedAcquireOptions {
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
}

/** setTimeout cannot count further; longer finite timeouts would silently fire after 1 ms. */
export const MAX_TIMEOUT = 2_147_483_647;

const DEFAULT_WAIT: { timeout: number; signal: undefined } = { timeout: Infinity, signal: undefined };

/**
 * Validates `{ timeout, signal }`. `where` names the call in error messages: a string, or a lock
 * and the method called (the message is only built when there is an error). A timeout left out
 * is `defaultTimeout`: `configure({ defaultTimeout })` unless the lock has its own default.
 */
export function parseAcquireOptions(
  options: AcquireOptions | undefined,
  where: string | { readonly label: string },
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  method?: Function,
  defaultTimeout = getConfig().defaultTimeout,
): ParsedAcquireOptions {
  if (options === undefined) return defaultTimeout === Infinity ? DEFAULT_WAIT : { timeout: defaultTimeout, signal: undefined };
  return parseGiven(options, () => (typeof where === 'string' ? where : `${where.label}.${method?.name ?? 'lock'}()`), defaultTimeout);
}

function parseGiven(options: AcquireOptions, where: () => string, defaultTimeout: number): ParsedAcquireOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where()}: options must be an object, got ${String(options)}`);
  const { timeout, signal } = options;
  if (timeout !== undefined) checkTimeout(timeout, where, true);
  checkSignal(signal, where);
  return { timeout: timeout ?? defaultTimeout, signal };
}

/** @internal Throws RangeError unless `timeout` is a number of ms (0 only if `zeroAllowed`) up to MAX_TIMEOUT, or Infinity. */
export function checkTimeout(timeout: unknown, where: () => string, zeroAllowed: boolean): asserts timeout is number {
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0 || (!zeroAllowed && timeout === 0) || (Number.isFinite(timeout) && timeout > MAX_TIMEOUT)) {
    throw new RangeError(`${where()}: timeout must be a number of ms ${zeroAllowed ? 'from 0' : 'above 0 and'} ${zeroAllowed ? 'to' : 'up to'} ${MAX_TIMEOUT}, or Infinity; got ${String(timeout)}`);
  }
}

/** @internal Throws TypeError unless `signal` is undefined or an AbortSignal. */
export function checkSignal(signal: unknown, where: () => string): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${where()}: signal must be an AbortSignal`);
}
