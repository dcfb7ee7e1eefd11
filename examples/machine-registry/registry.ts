/**
 * The machine registry from one of deadbolt's starting documents, on `Store`: many processes
 * register and remove machines in one JSON file. The strategy that document spelled out by hand
 * (file lock first, then an in-memory reader/writer lock; reads from memory; each write a
 * transaction that reloads, modifies, writes a temp file and renames it into place) is what
 * `Store` does, so the registry itself is only its domain rules.
 */
import { Store, type StoreSnapshot } from '../../src/fs/index.js';

export interface Machine {
  readonly id: string;
  readonly host: string;
  readonly cpus: number;
  readonly tags: readonly string[];
  /** ISO time of registration. */
  readonly registeredAt: string;
}

export type Machines = Record<string, Machine>;

/** A registry rule was broken: a duplicate id, an unknown id, or a malformed machine. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

function checkMachine(machine: Omit<Machine, 'registeredAt'>): void {
  if (typeof machine.id !== 'string' || !/^[\w.-]{1,64}$/.test(machine.id)) throw new RegistryError(`machine id must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(machine.id)}`);
  if (typeof machine.host !== 'string' || machine.host === '') throw new RegistryError(`machine ${machine.id}: host must be a non-empty string`);
  if (!Number.isInteger(machine.cpus) || machine.cpus < 1) throw new RegistryError(`machine ${machine.id}: cpus must be a positive integer, got ${String(machine.cpus)}`);
}

export class MachineRegistry {
  readonly #store: Store<Machines>;

  constructor(file: string) {
    this.#store = new Store<Machines>(file, { initial: {}, name: 'machine-registry' });
  }

  /** Registers a machine; a duplicate id is an error (nothing is written). */
  async add(machine: Omit<Machine, 'registeredAt' | 'tags'> & { tags?: readonly string[] }): Promise<Machine> {
    checkMachine({ tags: [], ...machine });
    const entry: Machine = { tags: [], ...machine, registeredAt: new Date().toISOString() };
    await this.#store.update((machines) => {
      if (machines[entry.id] !== undefined) throw new RegistryError(`machine ${entry.id} is already registered (on ${machines[entry.id]?.host})`);
      machines[entry.id] = entry;
    });
    return entry;
  }

  /** Removes a machine; returns false if it was not registered. */
  async remove(id: string): Promise<boolean> {
    let removed = false;
    await this.#store.update((machines) => {
      removed = machines[id] !== undefined;
      delete machines[id];
    });
    return removed;
  }

  /** One machine, from memory (reloaded only if another process changed the file). */
  get(id: string): Machine | undefined {
    return this.#store.get()[id];
  }

  /** Every machine, sorted by id, optionally those with a tag. */
  list(tag?: string): Machine[] {
    return Object.values(this.#store.get())
      .filter((machine) => tag === undefined || machine.tags.includes(tag))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The registry's data and version. */
  snapshot(): StoreSnapshot<Machines> {
    return this.#store.snapshot();
  }

  /** Removes temp files and lock records left by crashed processes. */
  cleanup(): Promise<string[]> {
    return this.#store.cleanup();
  }
}
