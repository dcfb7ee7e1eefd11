/** Options of deadbolt/secure. */
export interface SecureConfig {
  /**
   * `'required'` (default): an allocation whose memory cannot be locked into RAM throws
   * `MlockError`. `'best-effort'`: such memory is used anyway and may be swapped to disk
   * (libsodium's own behaviour, made an explicit choice here).
   */
  readonly mlock: 'required' | 'best-effort';
}

let config: SecureConfig = Object.freeze({ mlock: process.env.DEADBOLT_MLOCK === 'best-effort' ? 'best-effort' : 'required' });

/**
 * Changes deadbolt/secure's configuration (also `DEADBOLT_MLOCK=best-effort`) and returns it.
 *
 * @example
 * configureSecure({ mlock: 'best-effort' }); // AWS Lambda: 64 KiB of RLIMIT_MEMLOCK
 */
export function configureSecure(options: Partial<SecureConfig>): SecureConfig {
  if (options === null || typeof options !== 'object') throw new TypeError(`configureSecure(options): options must be an object, got ${String(options)}`);
  const { mlock } = options;
  if (mlock !== undefined && mlock !== 'required' && mlock !== 'best-effort') throw new TypeError(`configureSecure(): mlock must be 'required' or 'best-effort', got ${JSON.stringify(mlock)}`);
  config = Object.freeze({ ...config, ...(mlock === undefined ? {} : { mlock }) });
  return config;
}

export function getSecureConfig(): SecureConfig {
  return config;
}
