/*
 * The interprocedural pass, over per-function summaries only: which functions are wrappers (run
 * their callback argument under a lock, found transitively), which nested functions run under
 * their parent's locks, and for each function the locks, blocking work and callbacks it reaches
 * through its calls. Each summary is computed once (memoised, recursion cut at cycles), so the
 * pass is linear in the number of call sites times the locks they reach.
 */
import { WRAPPER_DEF } from './lock-model.js';
import { step, throughReceiver, type AcquireEvent, type Hold, type LockRef, type Unit } from './model.js';
import type { Resolver } from './resolve.js';
import type { LabelledLocation, WrapperSpecifier } from './types.js';

/** A lock a function reaches, and the steps from its first call site to the acquisition. */
export interface Reach {
  readonly ref: LockRef;
  readonly lockKey: string;
  readonly label: string;
  readonly path: readonly LabelledLocation[];
}

export interface Wrapping {
  readonly holds: readonly Hold[];
  readonly path: readonly LabelledLocation[];
}

function lockingHolds(holds: readonly Hold[]): Hold[] {
  return holds.filter((h) => h.mode !== 'flag');
}

export class Summaries {
  readonly wrappers = new Map<Unit, Map<number, Wrapping>>();
  readonly #ctx = new Map<Unit, readonly Hold[]>();
  readonly #children = new Map<Unit, Unit[]>();
  readonly #reach = new Map<Unit, Map<string, Reach> | null>();
  readonly #blocking = new Map<Unit, readonly LabelledLocation[] | null | undefined>();
  readonly #callbacks = new Map<Unit, readonly LabelledLocation[] | null | undefined>();

  constructor(
    readonly units: readonly Unit[],
    private readonly resolver: Resolver,
    private readonly configWrappers: readonly WrapperSpecifier[],
  ) {
    this.#inferWrappers();
    this.#attachArguments();
    for (const unit of units) {
      const attachment = unit.attachment;
      if (attachment.t === 'invoked' && unit.parent !== undefined) {
        this.#ctx.set(unit, [...this.ctx(unit.parent), ...attachment.held, ...attachment.extra]);
        const list = this.#children.get(unit.parent) ?? [];
        list.push(unit);
        this.#children.set(unit.parent, list);
      }
    }
  }

  /** Locks held when the function starts, from the site that runs it (empty for a named function). */
  ctx(unit: Unit): readonly Hold[] {
    return this.#ctx.get(unit) ?? [];
  }

  /** ctx plus the holds of an event inside the function. */
  effective(unit: Unit, held: readonly Hold[]): readonly Hold[] {
    const ctx = this.ctx(unit);
    return ctx.length === 0 ? held : held.length === 0 ? ctx : [...ctx, ...held];
  }

  wrapperOf(unit: Unit): Map<number, Wrapping> | undefined {
    return this.wrappers.get(unit);
  }

  #setWrapper(unit: Unit, param: number, wrapping: Wrapping): boolean {
    if (wrapping.holds.length === 0) return false;
    let map = this.wrappers.get(unit);
    if (map === undefined) {
      map = new Map();
      this.wrappers.set(unit, map);
    }
    if (map.has(param)) return false;
    map.set(param, wrapping);
    return true;
  }

  #inferWrappers(): void {
    for (const unit of this.units) {
      for (const event of unit.paramRuns) this.#setWrapper(unit, event.param, { holds: lockingHolds(event.held), path: [event.site] });
      for (const event of unit.paramInvokes) this.#setWrapper(unit, event.param, { holds: lockingHolds(event.held), path: [event.site] });
    }
    for (const spec of this.configWrappers) {
      for (const unit of this.units) {
        const matches = unit.name === spec.name || unit.name.endsWith(`.${spec.name}`) || unit.name.endsWith(`/${spec.name}`);
        if (!matches || this.wrappers.has(unit)) continue;
        const decl = this.resolver.declare({ id: `wrapper:${spec.name}`, name: `${spec.name} (wrapper)`, at: unit.node, instance: 'static' }, WRAPPER_DEF, false);
        const site = step(decl.location, `${spec.name} runs its callback under a lock`);
        const hold: Hold = { ref: { decl, instance: 'static' }, lockKey: decl.id, label: decl.name, site, certain: true, mode: 'block' };
        const index = spec.callbackArg ?? Math.max(0, unit.params.length - 1);
        this.#setWrapper(unit, index, { holds: [hold], path: [site] });
      }
    }
    // Transitively: a function that passes its parameter to a wrapper's callback slot wraps too.
    for (let changed = true, rounds = 0; changed && rounds < 20; rounds++) {
      changed = false;
      for (const unit of this.units) {
        for (const call of unit.calls) {
          for (const [argIndex, paramIndex] of call.argParams) {
            const wrapping = this.wrappers.get(call.callee)?.get(argIndex);
            if (wrapping === undefined) continue;
            const holds = [...lockingHolds(call.held), ...wrapping.holds.map((h) => ({ ...h, ref: throughReceiver(h.ref, call.sameReceiver) }))];
            if (this.#setWrapper(unit, paramIndex, { holds, path: [call.site, ...wrapping.path] })) changed = true;
          }
        }
      }
    }
  }

  /** Inline callbacks passed to project functions: run under the wrapper's locks, or by the callee at all? */
  #attachArguments(): void {
    for (const unit of this.units) {
      const attachment = unit.attachment;
      if (attachment.t !== 'argument') continue;
      const { call, index } = attachment;
      const caller = unit.parent;
      const wrapping = this.wrappers.get(call.callee)?.get(index);
      if (wrapping !== undefined && caller !== undefined) {
        const extra = wrapping.holds.map((h): Hold => {
          const ref = throughReceiver(h.ref, call.sameReceiver);
          return { ...h, ref, site: step(call.site, `acquires ${h.label} through ${call.callee.name}`), via: wrapping.path, certain: true };
        });
        for (const hold of extra) {
          const event: AcquireEvent = { ref: hold.ref, lockKey: hold.lockKey, label: hold.label, site: hold.site, held: call.held, mode: hold.mode, via: wrapping.path };
          caller.acquires.push(event);
        }
        unit.attachment = { t: 'invoked', held: call.held, extra };
        continue;
      }
      const invokes = call.callee.paramInvokes.some((e) => e.param === index) || call.callee.paramRuns.some((e) => e.param === index);
      unit.attachment = invokes ? { t: 'invoked', held: call.held, extra: [] } : { t: 'detached' };
    }
  }

  /** Every lock `unit` may wait for, directly, in callbacks it runs, or through its calls. */
  reach(unit: Unit): ReadonlyMap<string, Reach> {
    const memo = this.#reach.get(unit);
    if (memo !== undefined) return memo ?? new Map();
    this.#reach.set(unit, null);
    const out = new Map<string, Reach>();
    for (const event of unit.acquires) {
      if (event.mode !== 'block' || out.has(event.lockKey)) continue;
      out.set(event.lockKey, { ref: event.ref, lockKey: event.lockKey, label: event.label, path: [event.site, ...(event.via ?? [])] });
    }
    for (const child of this.#children.get(unit) ?? []) {
      for (const [key, reach] of this.reach(child)) if (!out.has(key)) out.set(key, reach);
    }
    for (const call of unit.calls) {
      for (const [key, reach] of this.reach(call.callee)) {
        if (out.has(key)) continue;
        out.set(key, { ...reach, ref: throughReceiver(reach.ref, call.sameReceiver), path: [call.site, ...reach.path] });
      }
    }
    this.#reach.set(unit, out);
    return out;
  }

  /** A path from `unit` to heavy synchronous work, if it does any. */
  blockingPath(unit: Unit): readonly LabelledLocation[] | null {
    return this.#firstPath(unit, this.#blocking, (u) => u.blocking[0]?.site);
  }

  /** A path from `unit` to a callback, emit or listener notification, if it makes one. */
  callbackPath(unit: Unit): readonly LabelledLocation[] | null {
    return this.#firstPath(unit, this.#callbacks, (u) => u.callbacks[0]?.site);
  }

  #firstPath(unit: Unit, memo: Map<Unit, readonly LabelledLocation[] | null | undefined>, own: (u: Unit) => LabelledLocation | undefined): readonly LabelledLocation[] | null {
    if (memo.has(unit)) return memo.get(unit) ?? null;
    memo.set(unit, null);
    let path: readonly LabelledLocation[] | null = null;
    const direct = own(unit);
    if (direct !== undefined) path = [direct];
    for (const child of this.#children.get(unit) ?? []) {
      if (path !== null) break;
      path = this.#firstPath(child, memo, own);
    }
    for (const call of unit.calls) {
      if (path !== null) break;
      const inner = this.#firstPath(call.callee, memo, own);
      if (inner !== null) path = [call.site, ...inner];
    }
    memo.set(unit, path);
    return path;
  }
}
