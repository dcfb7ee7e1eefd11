/**
 * A lock class is the unit that ordering rules apply to (lockdep's term). Locks that share a
 * name share a class; an unnamed lock gets the class of the place it was constructed.
 */
export class LockClass {
  /** Learned order edges `this -> other`, each with the stack where it was first seen. */
  readonly after = new Map<LockClass, OrderEdge>();
  /**
   * Record the site of every acquisition of this class. Set once a report had to name a holder
   * of the class whose site was not recorded, so that the next report can (see StackPolicy).
   */
  recordSites = false;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly rank: number | undefined,
    /** Where the class was first declared (the construction site of its first lock). */
    readonly site: string | undefined,
  ) {}

  toString(): string {
    return this.rank === undefined ? `"${this.name}"` : `"${this.name}" (rank ${this.rank})`;
  }
}

export interface OrderEdge {
  readonly from: LockClass;
  readonly to: LockClass;
  /** Stack of the acquisition that first taught this edge. */
  readonly stack: string;
}

/** What a lock supplies when it is constructed: its name and rank, both optional. */
export interface LockOptions {
  /** Class name: locks sharing a name form one class (ranks and ordering apply per class). */
  readonly name?: string;
  /** While holding rank r, a flow may only wait for ranks greater than r. */
  readonly rank?: number;
}

export function validateLockOptions(kind: string, options: unknown): LockOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${kind} options must be an object, got ${String(options)}`);
  const { name, rank } = options as Record<string, unknown>;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) {
    throw new TypeError(`${kind} name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (rank !== undefined && (typeof rank !== 'number' || !Number.isFinite(rank))) {
    throw new TypeError(`${kind} rank must be a finite number, got ${String(rank)}`);
  }
  return { name: name as string | undefined, rank: rank as number | undefined };
}
