import { readFileSync } from 'node:fs';
import sodium from 'sodium-native';
import { getSecureConfig } from './config.js';
import { MlockError, SecureMemoryLimitError } from './errors.js';

export type Protection = 'noaccess' | 'readonly' | 'readwrite';

const CANARY_BYTES = 16;
/** Mappings kept free for everything else in the process (the heap, libraries, other buffers). */
const RESERVED_MAPPINGS = 4_096;
/** sodium_malloc maps a guard page on either side and an unlocked canary page: 4 mappings. */
const MAPPINGS_PER_ALLOCATION = 4;

function maxMapCount(): number {
  try {
    return Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8').trim()) || 65_530;
  } catch {
    // Not Linux: keep the Linux default as a conservative bound.
    return 65_530;
  }
}

const MAX_MAP_COUNT = maxMapCount();
const LIMIT = Math.max(64, Math.floor((MAX_MAP_COUNT - RESERVED_MAPPINGS) / MAPPINGS_PER_ALLOCATION));
/** Regions allocated and not freed yet. */
let live = 0;
/**
 * sodium_free only detaches the JS buffer: libsodium unmaps the memory when the garbage
 * collector finalizes it, so freed regions keep their mappings for a while, and a fast
 * allocate/free loop can run past the kernel's limit with few live regions. So every
 * CHECK_EVERY allocations the process's real mapping count is read (Linux), and an allocation
 * that could take it past the limit before the next check is refused.
 */
const CHECK_EVERY = 512;
let sinceCheck = 0;

function mappingsNow(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const maps = readFileSync('/proc/self/maps', 'latin1');
    let lines = 0;
    for (let at = maps.indexOf('\n'); at !== -1; at = maps.indexOf('\n', at + 1)) lines++;
    return lines;
  } catch {
    return null;
  }
}

function checkMappings(): void {
  if (live >= LIMIT) throw new SecureMemoryLimitError(live, LIMIT);
  if (++sinceCheck < CHECK_EVERY) return;
  sinceCheck = 0;
  const mappings = mappingsNow();
  if (mappings !== null && mappings + CHECK_EVERY * MAPPINGS_PER_ALLOCATION >= MAX_MAP_COUNT - RESERVED_MAPPINGS / 4) {
    sinceCheck = CHECK_EVERY; // check again on the next allocation: the GC may have unmapped some by then
    throw new SecureMemoryLimitError(live, LIMIT, mappings, MAX_MAP_COUNT);
  }
}

/** The process's canary: random, in read-only secure memory of its own. */
let canary: Buffer | null = null;
function processCanary(): Buffer {
  if (canary === null) {
    canary = sodium.sodium_malloc(CANARY_BYTES);
    sodium.randombytes_buf(canary);
    sodium.sodium_mprotect_readonly(canary);
    live++;
  }
  return canary;
}

/**
 * One allocation of libsodium secure memory: guard pages on both sides, mlocked, with a canary
 * just before the data (sodium_malloc puts the data against the trailing guard page, so an
 * overflow faults at once; the canary catches an underflow when the region is freed).
 *
 * This is the only code that calls sodium_mprotect_*, and only on memory sodium_malloc returned
 * (`secure === true`): mprotect on any other Buffer segfaults in sodium-native 5.1.
 */
export class SecureRegion {
  readonly #memory: Buffer;
  #protection: Protection = 'readwrite';
  #freed = false;

  /** Allocates `size` zeroed bytes, readable and writable until protected. */
  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`secure buffer size must be a positive integer, got ${String(size)}`);
    processCanary();
    checkMappings();
    const memory = sodium.sodium_malloc(CANARY_BYTES + size);
    if (memory.secure !== true) throw new Error('sodium_malloc returned memory that is not secure');
    live++;
    try {
      sodium.sodium_mlock(memory);
    } catch (error) {
      if (getSecureConfig().mlock === 'required') {
        sodium.sodium_free(memory);
        live--;
        throw new MlockError(size, error);
      }
    }
    memory.set(processCanary(), 0);
    memory.fill(0, CANARY_BYTES);
    this.#memory = memory;
  }

  /** A region holding a copy of `source`, which is then wiped: the secret lives in one place. */
  static copyOf(source: Uint8Array, what: string): SecureRegion {
    if (!(source instanceof Uint8Array)) throw new TypeError(`${what}: source must be a Uint8Array or Buffer`);
    const region = new SecureRegion(source.length);
    region.bytes.set(source);
    sodium.sodium_memzero(source);
    return region;
  }

  /** A region of `size` bytes from libsodium's CSPRNG. */
  static random(size: number): SecureRegion {
    const region = new SecureRegion(size);
    sodium.randombytes_buf(region.bytes);
    return region;
  }

  /** Secure regions allocated and not freed, the most allowed at once, and the process's memory mappings (Linux). */
  static get usage(): { live: number; limit: number; mappings: number | null; maxMappings: number } {
    return { live, limit: LIMIT, mappings: mappingsNow(), maxMappings: MAX_MAP_COUNT };
  }

  get protection(): Protection {
    return this.#protection;
  }

  get freed(): boolean {
    return this.#freed;
  }

  /**
   * The data bytes, a view into secure memory. Touching it while the region is no-access (or
   * after free) kills the process with SIGSEGV: hand it out only inside an access window.
   */
  get bytes(): Buffer {
    return this.#memory.subarray(CANARY_BYTES);
  }

  protect(protection: Protection): void {
    if (this.#freed) throw new Error('secure region already freed');
    if (protection === this.#protection) return;
    if (protection === 'noaccess') sodium.sodium_mprotect_noaccess(this.#memory);
    else if (protection === 'readonly') sodium.sodium_mprotect_readonly(this.#memory);
    else sodium.sodium_mprotect_readwrite(this.#memory);
    this.#protection = protection;
  }

  /**
   * Wipes the data, checks the canary and frees the memory (always, even when the canary is
   * bad). Returns whether the canary was intact. Freeing twice is a no-op.
   */
  free(): boolean {
    if (this.#freed) return true;
    this.protect('readwrite');
    sodium.sodium_memzero(this.bytes);
    const intact = sodium.sodium_memcmp(this.#memory.subarray(0, CANARY_BYTES), processCanary());
    sodium.sodium_memzero(this.#memory);
    sodium.sodium_free(this.#memory);
    this.#freed = true;
    live--;
    return intact;
  }

  /** @internal For tests of canary detection: overwrite one canary byte. */
  corruptCanaryForTest(): void {
    this.protect('readwrite');
    this.#memory[0] = (this.#memory[0] ?? 0) ^ 0xff;
  }
}
