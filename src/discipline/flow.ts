import { AsyncResource, createHook, executionAsyncResource } from 'node:async_hooks';
import { isLive, pushContext, type Acquisition, type FlowContext } from './acquisition.js';
import { CONTEXT, state } from './state.js';

/**
 * Flow tracking, as measured in DESIGN.md. An `init` hook copies the creating resource's context
 * onto each new async resource, with one exception: a promise created by awaiting (or `.then`ing)
 * an acquisition promise gets the context extended with that acquisition. That promise is the
 * continuation of exactly the code that awaited the lock, so `Promise.all` siblings never see it.
 *
 * A context of `null` means "explicitly holds nothing" (see `detached`); `undefined` means the
 * resource was created before any lock was involved.
 */
type Carrier = Record<symbol, FlowContext | null | undefined>;

export function currentContext(): FlowContext | null | undefined {
  return (executionAsyncResource() as Carrier)[CONTEXT];
}

/** Drops released and cancelled acquisitions, so a flow that locks in a loop stays short. */
function compact(ctx: FlowContext | null | undefined): FlowContext | null {
  let live = 0;
  let total = 0;
  for (let node = ctx; node; node = node.parent) {
    total++;
    if (isLive(node.acq)) live++;
  }
  if (live === total) return ctx ?? null;
  if (live === 0) return null;
  const kept: Acquisition[] = [];
  for (let node = ctx; node; node = node.parent) if (isLive(node.acq)) kept.push(node.acq);
  let rebuilt: FlowContext | null = null;
  for (let i = kept.length - 1; i >= 0; i--) rebuilt = pushContext(rebuilt, kept[i] as Acquisition);
  return rebuilt;
}

export function extendContext(ctx: FlowContext | null | undefined, carried: Acquisition | Acquisition[]): FlowContext {
  const base = compact(ctx);
  if (!Array.isArray(carried)) return pushContext(base, carried);
  let next: FlowContext | null = base;
  for (const acq of carried) next = pushContext(next, acq);
  return next as FlowContext;
}

function init(asyncId: number, type: string, triggerAsyncId: number, resource: object): void {
  if (type === 'PROMISE') {
    const tag = state.pendingTag;
    if (tag !== null) {
      // No code runs "in" the acquisition promise itself: its reactions run in the promises
      // derived from it (the await continuation, .then), which get their context below. Not
      // writing the property saves an allocation per acquisition.
      state.pendingTag = null;
      fileContinuation(asyncId, tag);
      return;
    }
    let ctx = (executionAsyncResource() as Carrier)[CONTEXT];
    if (triggerAsyncId === state.slotId && state.slotTag !== null) {
      ctx = extendContext(ctx, state.slotTag);
    } else if (state.continuations.size !== 0) {
      const carried = state.continuations.get(triggerAsyncId);
      if (carried !== undefined) ctx = extendContext(ctx, carried);
    }
    if (ctx !== undefined) (resource as Carrier)[CONTEXT] = ctx;
    return;
  }
  const ctx = (executionAsyncResource() as Carrier)[CONTEXT];
  if (ctx !== undefined) (resource as Carrier)[CONTEXT] = ctx;
}

/**
 * The newest acquisition promise lives in a one-entry slot, because it is nearly always awaited
 * at once and released before the next one: the common path then never touches the Map. An
 * entry still in the slot when the next acquisition arrives moves to the Map.
 */
function fileContinuation(asyncId: number, tag: Acquisition | Acquisition[]): void {
  if (state.slotTag !== null) state.continuations.set(state.slotId, state.slotTag);
  state.slotId = asyncId;
  state.slotTag = tag;
  if (Array.isArray(tag)) for (const acq of tag) acq.promiseId = asyncId;
  else tag.promiseId = asyncId;
}

export function enableFlowTracking(): void {
  state.hook ??= createHook({ init });
  state.hook.enable();
}

export function disableFlowTracking(): void {
  state.hook?.disable();
  state.pendingTag = null;
  state.slotTag = null;
  state.slotId = 0;
  state.continuations.clear();
}

/**
 * Marks the next promise created as the carrier of `carried`: whoever awaits it holds them.
 * Call it immediately before creating the promise that an acquisition API returns.
 */
export function tagNextPromise(carried: Acquisition | Acquisition[]): void {
  if (state.hook !== null && state.config.checks) state.pendingTag = carried;
}

/** Forgets the continuation entry of an acquisition once it is released or cancelled. */
export function forgetContinuation(acq: Acquisition): void {
  const id = acq.promiseId;
  if (id === 0) return;
  acq.promiseId = 0;
  if (id === state.slotId) {
    state.slotTag = null;
    state.slotId = 0;
  } else if (state.continuations.size !== 0) {
    state.continuations.delete(id);
  }
}

/**
 * Records a synchronous acquisition (a try-lock) as held by the running code. There is no promise
 * to carry it, so the current resource's context is extended in place. Code that shares that
 * resource (an async function's synchronous prefix runs on its caller's resource) sees it too,
 * until it is released.
 */
export function attachToCurrentFlow(acq: Acquisition): void {
  const resource = executionAsyncResource() as Carrier;
  resource[CONTEXT] = extendContext(resource[CONTEXT], acq);
}

/**
 * Runs `fn` as a new flow that holds nothing, even if the caller holds locks. Use it for work
 * that is started while holding a lock but not awaited (fire-and-forget): in checked mode such
 * work otherwise inherits the caller's held set, as an awaited child must.
 *
 * @example
 * const g = await registry.lock();
 * detached(() => void flushLater()); // flushLater may take `registry` itself
 * g.release();
 */
export function detached<T>(fn: () => T): T {
  if (state.hook === null || !state.config.checks) return fn();
  const resource = new AsyncResource('deadbolt.detached');
  (resource as unknown as Carrier)[CONTEXT] = null;
  return resource.runInAsyncScope(fn);
}
