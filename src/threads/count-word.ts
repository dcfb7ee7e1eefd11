import type { AcqMode } from '../discipline/acquisition.js';
import type { Arena } from './arena.js';
import { LockKind, WRITER } from './arena-layout.js';
import { CrossWord, describeSlots } from './cross-word.js';

/**
 * The word of a shared semaphore or read-write lock: a count of what its holders added (a
 * permit weight; 1 per reader, WRITER for a writer), taken by compare-and-swap. Each thread's
 * share is also kept in its hold entry, so that what a dead thread held can be given back and
 * the wait-for check can see every holder.
 *
 * Read-write locks prefer writers: while a writer waits, new readers stay out, so a steady
 * stream of readers cannot starve it.
 */
export class CountWord extends CrossWord {
  readonly #rw: boolean;
  #hold = -1;
  /** This thread's totals, mirrored in its hold entry. */
  #units = 0;
  #guards = 0;

  constructor(
    arena: Arena,
    lock: number,
    /** Permits (semaphore); ignored for read-write locks. */
    readonly capacity: number,
  ) {
    super(arena, lock);
    this.#rw = arena.kindOf(lock) === LockKind.RwLock;
  }

  #delta(mode: AcqMode, weight: number): number {
    return this.#rw && mode === 'exclusive' ? WRITER : weight;
  }

  #fits(count: number, mode: AcqMode, weight: number): boolean {
    if (!this.#rw) return count + weight <= this.capacity;
    if (mode === 'exclusive') return count === 0;
    return (count & WRITER) === 0 && Atomics.load(this.arena.words, this.arena.writersWaiting(this.lock)) === 0;
  }

  tryAcquire(mode: AcqMode, weight: number): boolean {
    const words = this.arena.words;
    const delta = this.#delta(mode, weight);
    for (;;) {
      const count = Atomics.load(words, this.futexIndex);
      if (!this.#fits(count, mode, weight)) return false;
      if (Atomics.compareExchange(words, this.futexIndex, count, count + delta) === count) break;
    }
    // Counted before it is recorded: a thread killed between the two leaks its units (the lock
    // stays short of them) rather than having them given back twice (which would over-admit).
    if (this.#hold < 0) this.#hold = this.arena.claimHoldEntry(this.lock);
    this.arena.publishHold(this.#hold, (this.#units += delta), ++this.#guards);
    const died = this.arena.ownerDied(this.lock);
    if (Atomics.load(words, died) !== 0 && Atomics.exchange(words, died, 0) !== 0) this.tookOverFromDead = true;
    return true;
  }

  release(mode: AcqMode, weight: number): void {
    const words = this.arena.words;
    const delta = this.#delta(mode, weight);
    if (this.arena.isDead(this.arena.slot)) {
      // This thread is exiting and was marked dead first: another thread may already have given
      // its units back (reclaimFromDead). Whoever claims the entry gives them back, once.
      const mark = this.lock + 1;
      if (Atomics.compareExchange(words, this.#hold, mark, -2) !== mark) return;
      if (Atomics.load(words, this.#hold + 1) !== this.arena.slot + 1) {
        // Given back and reused by another thread for this same lock: not ours any more.
        Atomics.store(words, this.#hold, mark);
        return;
      }
      this.arena.publishHold(this.#hold, (this.#units -= delta), --this.#guards);
      Atomics.sub(words, this.futexIndex, delta);
      Atomics.store(words, this.#hold, mark);
    } else {
      this.arena.publishHold(this.#hold, (this.#units -= delta), --this.#guards);
      Atomics.sub(words, this.futexIndex, delta);
    }
    // Several waiters may fit now (readers, light permit requests): wake them all.
    if (Atomics.load(words, this.arena.waiters(this.lock)) > 0) Atomics.notify(words, this.futexIndex);
  }

  protected claim(mode: AcqMode, weight: number): number {
    for (;;) {
      if (this.tryAcquire(mode, weight)) return -1;
      if (this.arena.hasDeadHolder(this.lock) && this.arena.reclaimFromDead(this.lock) > 0) continue;
      return Atomics.load(this.arena.words, this.futexIndex);
    }
  }

  protected override beginWait(mode: AcqMode): void {
    Atomics.add(this.arena.words, this.arena.waiters(this.lock), 1);
    if (this.#rw && mode === 'exclusive') Atomics.add(this.arena.words, this.arena.writersWaiting(this.lock), 1);
  }

  protected override endWait(mode: AcqMode): void {
    const words = this.arena.words;
    Atomics.sub(words, this.arena.waiters(this.lock), 1);
    // Readers held back for this writer wait on the count, which a writer giving up never changed.
    if (this.#rw && mode === 'exclusive' && Atomics.sub(words, this.arena.writersWaiting(this.lock), 1) === 1) Atomics.notify(words, this.futexIndex);
  }

  protected describeHolders(): string {
    return describeSlots(this.arena, this.arena.holdersOf(this.lock).keys());
  }

  /** Frees this thread's hold entry (when the lock's core is collected while holding nothing). */
  dispose(): void {
    if (this.#hold >= 0) this.arena.freeHoldEntry(this.#hold);
  }
}
