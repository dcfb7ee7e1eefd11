import type { AcqMode } from '../discipline/acquisition.js';
import type { Arena } from './arena.js';
import { CONTENDED, OWNER_MASK } from './arena-layout.js';
import { CrossWord, describeSlots } from './cross-word.js';

/**
 * A shared mutex's word: 0 when free, else the owner's thread slot + 1, with CONTENDED set once
 * some thread waits, so that taking and releasing it are one compare-and-swap each when nobody
 * waits (the bare CAS mutex), and a release wakes one waiter only when someone waits.
 */
export class FutexWord extends CrossWord {
  readonly #me: number;

  constructor(arena: Arena, lock: number) {
    super(arena, lock);
    this.#me = arena.slot + 1;
  }

  /** One compare-and-swap when free; else takes over from a dead owner, or fails. */
  tryAcquire(_mode?: AcqMode, _weight?: number): boolean {
    const seen = Atomics.compareExchange(this.arena.words, this.futexIndex, 0, this.#me);
    return seen === 0 || this.#takeOverFromDead(seen);
  }

  /** The owner thread died holding the lock: the first waiter to swap itself in owns it. */
  #takeOverFromDead(seen: number): boolean {
    const owner = (seen & OWNER_MASK) - 1;
    if (owner < 0 || !this.arena.isDead(owner)) return false;
    if (Atomics.compareExchange(this.arena.words, this.futexIndex, seen, this.#me | CONTENDED) !== seen) return false;
    this.tookOverFromDead = true;
    return true;
  }

  /**
   * Frees the word only if this thread still owns it: after this thread was marked dead (its
   * exit handler runs before the user's), another thread may have taken the lock over.
   */
  release(_mode?: AcqMode, _weight?: number): void {
    const words = this.arena.words;
    if (Atomics.compareExchange(words, this.futexIndex, this.#me, 0) === this.#me) return;
    if (Atomics.compareExchange(words, this.futexIndex, this.#me | CONTENDED, 0) === (this.#me | CONTENDED)) Atomics.notify(words, this.futexIndex, 1);
  }

  /**
   * Takes the word (as contended, since others may still wait), or marks it contended, so that
   * the owner's release wakes a waiter, and returns the value to wait on.
   */
  protected claim(): number {
    const words = this.arena.words;
    for (;;) {
      const seen = Atomics.compareExchange(words, this.futexIndex, 0, this.#me | CONTENDED);
      if (seen === 0 || this.#takeOverFromDead(seen)) return -1;
      if ((seen & CONTENDED) !== 0) return seen;
      // Waiting on a value without the bit would miss the owner's wake-up: set it, or start over
      // if the word changed meanwhile (released, or taken by another thread).
      if (Atomics.compareExchange(words, this.futexIndex, seen, seen | CONTENDED) === seen) return seen | CONTENDED;
    }
  }

  protected describeHolders(): string {
    const owner = this.arena.ownerOf(this.lock);
    return describeSlots(this.arena, owner < 0 ? [] : [owner]);
  }
}
