import { DeadboltError } from '../index.js';

/**
 * A Secret (or LockedBuffer) was used after `close()`/`destroy()` began. Its memory is wiped
 * and freed; nothing can be read from it any more.
 *
 * @example
 * try { await secret.withBytes(use); } catch (e) { if (e instanceof SecretClosedError) reopen(); }
 */
export class SecretClosedError extends DeadboltError {
  readonly code = 'ERR_SECRET_CLOSED' as const;
  override readonly name = 'SecretClosedError';

  constructor(what: string) {
    super('ERR_SECRET_CLOSED', `${what} is closed`, `${what} was closed or destroyed: its memory was wiped and freed. Create a new one.`);
  }

  static override readonly CODE = 'ERR_SECRET_CLOSED';
}

/**
 * The canary beside a buffer's data changed: something wrote before the start of the buffer
 * (an underflow). The buffer was still wiped and freed; treat the process as compromised.
 */
export class CanaryError extends DeadboltError {
  readonly code = 'ERR_CANARY' as const;
  override readonly name = 'CanaryError';

  constructor(what: string) {
    super('ERR_CANARY', `canary of ${what} was overwritten`, `The bytes just before ${what}'s data changed since allocation: memory before the buffer was written to. The buffer was wiped and freed anyway.`);
  }

  static override readonly CODE = 'ERR_CANARY';
}

/**
 * Locking secure memory into RAM (mlock) failed, so it could be swapped to disk. Usually the
 * RLIMIT_MEMLOCK limit (`ulimit -l`, often 64 KiB in containers and on AWS Lambda). Raise the
 * limit, or opt out explicitly with `configureSecure({ mlock: 'best-effort' })`.
 */
export class MlockError extends DeadboltError {
  readonly code = 'ERR_MLOCK' as const;
  override readonly name = 'MlockError';

  constructor(size: number, cause: unknown) {
    super(
      'ERR_MLOCK',
      `cannot lock ${size} bytes of secure memory into RAM (mlock failed)`,
      `mlock failed: ${(cause as Error)?.message ?? String(cause)}. Without it the secret may be swapped to disk.\n` +
        'Usually RLIMIT_MEMLOCK is too low (see `ulimit -l`; containers and AWS Lambda often allow only 64 KiB). Raise it (e.g. `ulimit -l unlimited`, docker `--ulimit memlock=-1`), ' +
        "or accept swappable secrets explicitly with configureSecure({ mlock: 'best-effort' }).",
    );
    Object.defineProperty(this, 'cause', { value: cause, configurable: true, writable: true });
  }

  static override readonly CODE = 'ERR_MLOCK';
}

/**
 * Another secure allocation would exceed the kernel's limit on memory mappings
 * (`vm.max_map_count`; each allocation uses 4), past which libsodium's allocator fails and Node
 * aborts the process. Destroy buffers you no longer need, or raise `vm.max_map_count`.
 */
export class SecureMemoryLimitError extends DeadboltError {
  readonly code = 'ERR_SECURE_LIMIT' as const;
  override readonly name = 'SecureMemoryLimitError';

  constructor(live: number, limit: number, mappings?: number, maxMappings?: number) {
    super(
      'ERR_SECURE_LIMIT',
      mappings === undefined ? `too many live secure buffers: ${live} of at most ${limit}` : `the process has ${mappings} memory mappings of at most ${maxMappings}: no room for more secure buffers`,
      `Each secure buffer uses 4 memory mappings (guard pages); with vm.max_map_count the kernel allows about ${limit} live ones here, and past the limit sodium_malloc fails and Node aborts.\n` +
        'Destroy buffers you no longer need (or purge()). A destroyed buffer stays mapped until the garbage collector finalizes it, so a loop that allocates and frees very fast can hit this with few live buffers. Keep many small secrets in one buffer, or raise vm.max_map_count.',
    );
  }

  static override readonly CODE = 'ERR_SECURE_LIMIT';
}

/** Opening an Enclave failed authentication: the ciphertext was altered, or the coffer key changed (a new process). */
export class EnclaveOpenError extends DeadboltError {
  readonly code = 'ERR_ENCLAVE_OPEN' as const;
  override readonly name = 'EnclaveOpenError';

  constructor() {
    super('ERR_ENCLAVE_OPEN', 'cannot open enclave: authentication failed', 'The sealed bytes were altered, or they were sealed under another coffer key (another process, or before a coffer destroy()).');
  }

  static override readonly CODE = 'ERR_ENCLAVE_OPEN';
}
