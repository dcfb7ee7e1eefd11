import { DeadboltError, Mutex } from '../index.js';
import type { AccessGate } from './access-gate.js';
import { CanaryError } from './errors.js';

/** Rank of the registry's lock class: after `coffer` (10), before each `buffer` (30). */
export const BUFFERS_RANK = 20;

/** What the registry can destroy. */
export interface Destroyable {
  readonly description: string;
  destroy(options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
}

/** Some buffers could not be destroyed by `purge()` (still in use past the timeout, or a bad canary). They stay registered. */
export class PurgeError extends DeadboltError {
  readonly code = 'ERR_PURGE' as const;
  override readonly name = 'PurgeError';

  constructor(
    readonly destroyed: number,
    readonly failed: readonly { readonly buffer: string; readonly error: unknown }[],
  ) {
    super(
      'ERR_PURGE',
      `purge destroyed ${destroyed} secure buffer(s), with ${failed.length} problem(s)`,
      failed.map(({ buffer, error }) => `  ${buffer}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`).join('\n') +
        '\nA buffer still in use stays registered (a later purge tries again); one with a bad canary was freed anyway. None was skipped silently.',
    );
  }

  static override readonly CODE = 'ERR_PURGE';
}

/**
 * The registry of live secure buffers (memguard's `buffers`), behind a ranked deadbolt lock.
 * It holds WeakRefs: a buffer nobody references can be collected, and then the finalizer wipes
 * and frees its memory with a warning (it should have been destroyed).
 */
const registryLock = new Mutex({ name: 'buffers', rank: BUFFERS_RANK });
let live = new Set<WeakRef<Destroyable>>();
const purgeHooks = new Set<(options: { timeout: number; signal: AbortSignal | undefined }) => Promise<void> | void>();

const finalizer = new FinalizationRegistry<{ gate: AccessGate; description: string }>(({ gate, description }) => {
  if (gate.region.freed) return;
  gate.freeUnreachable(); // deferred while a callback still runs on a view
  process.emitWarning(`${description} was garbage-collected without destroy(); deadbolt wiped and freed it. Destroy secure buffers (or use \`await using\`) so their lifetime is explicit.`, {
    code: 'DEADBOLT_SECURE_LEAK',
  });
});

/**
 * Registers a new buffer. Synchronous on purpose, so that no buffer can go unregistered: a JS
 * Set cannot be raced within one thread, and a buffer registered while a purge runs is not lost
 * (it is simply newer than that purge).
 */
export function register(buffer: Destroyable, gate: AccessGate): WeakRef<Destroyable> {
  const ref = new WeakRef(buffer);
  live.add(ref);
  finalizer.register(buffer, { gate, description: buffer.description }, ref);
  return ref;
}

export function unregister(ref: WeakRef<Destroyable>): void {
  live.delete(ref);
  finalizer.unregister(ref);
}

/** @internal Something else purge must reset (the coffer's key). */
export function onPurge(hook: (options: { timeout: number; signal: AbortSignal | undefined }) => Promise<void> | void): void {
  purgeHooks.add(hook);
}

/** Live registered buffers (collected ones excluded). */
export function liveBufferCount(): number {
  let count = 0;
  for (const ref of live) if (ref.deref() !== undefined) count++;
  return count;
}

/**
 * Destroys every live secure buffer, and re-keys the coffer (enclaves sealed before can no
 * longer be opened, as in memguard). The registry's set is taken out under the `buffers` lock,
 * then each buffer is destroyed without that lock held: destroying waits for the buffer's
 * accessors, and waiting for user code under a global lock is how memguard's ports deadlocked.
 *
 * A buffer still in use after `timeout` ms (default 5 000, per buffer) is not skipped silently:
 * it is put back in the registry and reported, with every other failure, in a `PurgeError`.
 *
 * @example
 * process.on('SIGTERM', async () => { await purge({ timeout: 1_000 }).catch(console.error); process.exit(1); });
 */
export async function purge(options?: { timeout?: number; signal?: AbortSignal }): Promise<number> {
  const timeout = options?.timeout ?? 5_000;
  let taken!: Set<WeakRef<Destroyable>>;
  await registryLock.run(() => {
    taken = live;
    live = new Set();
  });
  let destroyed = 0;
  const failed: { buffer: string; error: unknown }[] = [];
  await Promise.all(
    [...taken].map(async (ref) => {
      const buffer = ref.deref();
      if (buffer === undefined) return;
      try {
        await buffer.destroy({ timeout, signal: options?.signal });
        destroyed++;
      } catch (error) {
        failed.push({ buffer: buffer.description, error });
        // A bad canary is reported after the buffer was freed anyway: only a buffer still in
        // use goes back, for a later purge.
        if (error instanceof CanaryError) destroyed++;
        else live.add(ref);
      }
    }),
  );
  for (const hook of purgeHooks) {
    try {
      await hook({ timeout, signal: options?.signal });
    } catch (error) {
      failed.push({ buffer: 'coffer reset', error });
    }
  }
  if (failed.length > 0) throw new PurgeError(destroyed, failed);
  return destroyed;
}
