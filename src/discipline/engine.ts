import { AcqState, heldIn, type Acquisition, type FlowContext, type TrackedLock } from './acquisition.js';
import { mergeConfig, type DeadboltConfig, type DeadboltOptions } from './config.js';
import { DeadlockError, LockOrderError, LockTimeoutError, type LockOrderKind } from './errors.js';
import { channels, publish, warn } from './events.js';
import { disableFlowTracking, enableFlowTracking, forgetContinuation } from './flow.js';
import { LockClass, type LockOptions } from './lock-class.js';
import { addOrderEdge, edgeRef, findOrderPath } from './order-graph.js';
import { cycleData, deadlockReport, describe, describeWithStack, lockRef, timeoutReport } from './report.js';
import { captureStack, indentStack } from './stack.js';
import { state } from './state.js';
import { findWaitCycle } from './wait-for.js';
import { heldListAdd, heldListRemove, syncWatchdog } from './watchdog.js';

/*
 * The engine every scope reports to, through one narrow lifecycle:
 *   request -> (grant | enqueue -> grant | cancel) -> release
 * A lock supplies its class, a label, and who blocks a queued request (TrackedLock). The engine
 * never calls user code.
 */

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function | undefined;

function applyConfig(): void {
  if (state.config.checks) enableFlowTracking();
  else disableFlowTracking();
  syncWatchdog();
}
applyConfig();

/**
 * Changes deadbolt's configuration and returns the result. Checked mode is on unless
 * `NODE_ENV=production`; `DEADBOLT_CHECKS=on|off` and `configure({ checks })` switch it. Turn
 * checks on before creating locks: an unnamed lock created in fast mode gets a class of its own.
 *
 * @example
 * configure({ checks: true, onPotentialDeadlock: 'warn', holdWarnMs: 2_000 });
 */
export function configure(options: DeadboltOptions): DeadboltConfig {
  state.config = mergeConfig(state.config, options);
  applyConfig();
  return state.config;
}

/**
 * The configuration in force (a frozen snapshot: change it with `configure`).
 *
 * @example
 * if (getConfig().checks) console.log('deadbolt checked mode is on');
 */
export function getConfig(): DeadboltConfig {
  return state.config;
}

/** The class of a new lock: by name, else by construction site (checked mode), else none yet. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function classFor(options: LockOptions, constructedBy: Function): LockClass | null {
  const { name, rank } = options;
  if (name !== undefined) {
    const existing = state.classesByName.get(name);
    if (existing !== undefined) {
      if (rank !== undefined && existing.rank !== rank) {
        throw new TypeError(
          `lock class "${name}" already has ${existing.rank === undefined ? 'no rank' : `rank ${existing.rank}`}; a new lock declares rank ${rank}. Locks that share a name share one rank.`,
        );
      }
      return existing;
    }
    return registerClass(name, rank, state.config.checks ? firstFrame(constructedBy) : undefined, state.classesByName);
  }
  if (!state.config.checks) return null;
  const site = firstFrame(constructedBy);
  const existing = state.classesBySite.get(site);
  if (existing !== undefined) {
    if (rank !== undefined && existing.rank !== rank) {
      throw new TypeError(`lock class ${site} already has ${existing.rank === undefined ? 'no rank' : `rank ${existing.rank}`}; a new lock there declares rank ${rank}.`);
    }
    return existing;
  }
  return registerClass(site, rank, site, state.classesBySite);
}

/** A class of its own for an unnamed lock created while checks were off. */
export function perInstanceClass(kind: string, instanceId: number, rank: number | undefined): LockClass {
  return registerClass(`${kind}#${instanceId}`, rank, undefined, null);
}

function registerClass(name: string, rank: number | undefined, site: string | undefined, index: Map<string, LockClass> | null): LockClass {
  const cls = new LockClass(state.nextId++, name, rank, site);
  index?.set(name, cls);
  state.classes.push(cls);
  return cls;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function firstFrame(constructedBy: Function): string {
  const frame = captureStack(constructedBy).text.split('\n')[0] ?? '';
  const location = /\(([^()]+)\)$/.exec(frame)?.[1] ?? frame.replace(/^at /, '');
  return location === '' ? 'unknown site' : location.replace(/^file:\/\//, '');
}

/**
 * Opens a request and checks it against the order rules (ranks, same-class nesting, recursion,
 * the learned order graph). A broken rule is stored on the request, not thrown, because the lock
 * may find that the request is an actual deadlock, which is the more precise error.
 *
 * Each pair (held class, requested class) is validated once: once its edge is learned, the check
 * is one Map lookup. This plays the part of lockdep's chain-key cache: nesting a lock under
 * several others costs one lookup per held lock, and a flow holding nothing checks nothing.
 */
export function request(acq: Acquisition, ctx: FlowContext | null | undefined, caller: Caller): void {
  const { lock, bundle } = acq;
  const cls = lock.lockClass;
  if (cls.recordSites || state.config.stacks === 'always') acq.site = captureStack(caller);
  for (let node = ctx; node; node = node.parent) {
    const held = node.acq;
    if (held.state !== AcqState.Held) continue;
    const heldClass = held.lock.lockClass;
    if (held.lock === lock) {
      acq.violation = orderError('recursive', held, acq, caller);
    } else if (heldClass === cls) {
      if (bundle !== null && held.bundle === bundle) continue;
      acq.violation = orderError('same-class', held, acq, caller);
    } else if (heldClass.rank !== undefined && cls.rank !== undefined && cls.rank <= heldClass.rank) {
      acq.violation = orderError('rank', held, acq, caller);
    } else if (!heldClass.after.has(cls)) {
      acq.violation = learnEdge(held, acq, caller);
    }
    if (acq.violation !== null) break;
  }
}

/** A try-lock never waits, so it is exempt from ordering and teaches no edge. */
export function tryRequest(acq: Acquisition, caller: Caller): void {
  if (acq.lock.lockClass.recordSites || state.config.stacks === 'always') acq.site = captureStack(caller);
}

function learnEdge(held: Acquisition, acq: Acquisition, caller: Caller): LockOrderError | null {
  const from = held.lock.lockClass;
  const to = acq.lock.lockClass;
  acq.site ??= captureStack(caller);
  const stack = acq.site.text;
  const path = findOrderPath(to, from);
  if (path === null) {
    addOrderEdge(from, to, stack);
    return null;
  }
  const error = orderError('order-cycle', held, acq, caller, path.map(edgeRef));
  if (state.config.onPotentialDeadlock === 'throw') return error;
  const key = `${from.id}->${to.id}`;
  if (!state.warnedEdges.has(key)) {
    state.warnedEdges.add(key);
    publish(channels.lockOrder, { error, action: 'warn' });
    warn(`order:${key}`, 'DEADBOLT_LOCK_ORDER', error.message);
  }
  addOrderEdge(from, to, stack);
  return null;
}

const ORDER_SUMMARY: Record<LockOrderKind, (held: Acquisition, acq: Acquisition) => string> = {
  rank: (held, acq) => `lock order violation: ${acq.lock.label} (rank ${acq.lockClass.rank}) requested while holding ${held.lock.label} (rank ${held.lockClass.rank})`,
  'same-class': (held, acq) => `lock order violation: two locks of class "${acq.lockClass.name}" nested outside lockAll (${held.lock.label} is held, ${acq.lock.label} requested)`,
  recursive: (held, acq) => `recursive acquisition: ${acq.lock.label} requested (${acq.mode}) by a flow that already holds it (${held.mode})`,
  'order-cycle': (held, acq) => `potential deadlock: "${held.lockClass.name}" -> "${acq.lockClass.name}" reverses an order learned earlier`,
  'condition-wait': (held, acq) => `potential deadlock: waiting on a condition of ${acq.lock.label} while holding ${held.lock.label}`,
};

const ORDER_ADVICE: Record<LockOrderKind, string> = {
  rank: 'Rule: while holding rank r, a flow may only request ranks greater than r. Release the higher-ranked lock first, or take both in rank order.',
  'same-class':
    'Rule: two locks of one class have no order between them, so two flows can take them in opposite orders. Take them together with lockAll([a, b]), which orders them consistently.',
  recursive:
    'deadbolt locks are not reentrant: a flow that requests a lock it holds waits for itself (exclusive), or deadlocks as soon as a writer or a heavier waiter queues between the two holds (shared). Pass the guard down instead of locking again.',
  'order-cycle': 'If two flows run these orders at once, each waits for the other forever. Pick one order (declare ranks to make it a rule), or take the locks together with lockAll([...]).',
  'condition-wait': 'A flow that could notify this condition may need the held lock, and would wait forever. Release other locks before waiting, or use the condition of an outer lock.',
};

function orderError(kind: LockOrderKind, held: Acquisition, acq: Acquisition, caller: Caller, cycle: ReturnType<typeof edgeRef>[] = []): LockOrderError {
  const site = acq.site ?? captureStack(caller);
  // A refused condition wait must not overwrite where the guard's lock was acquired.
  if (kind !== 'condition-wait') acq.site = site;
  const lines = [
    `${kind === 'condition-wait' ? 'Condition wait with' : 'Requested'}: ${describe(acq)}, at:`,
    indentStack(site.text, '    ', ''),
    'while holding:',
    describeWithStack(held, '  ', 'acquired'),
  ];
  if (cycle.length > 0) {
    lines.push('', `New order: "${held.lockClass.name}" -> "${acq.lockClass.name}" (the stack above).`, 'It closes a cycle with the order learned earlier:');
    for (const edge of cycle) lines.push(`  "${edge.from}" -> "${edge.to}", first seen at:`, indentStack(edge.stack, '      ', ''));
  }
  lines.push('', ORDER_ADVICE[kind]);
  return new LockOrderError(ORDER_SUMMARY[kind](held, acq), lines.join('\n'), kind, lockRef(held), lockRef(acq), cycle);
}

/** Throws the request's order violation, if any, before it is granted. */
export function checkGrantable(acq: Acquisition): void {
  if (acq.violation !== null) {
    acq.state = AcqState.Cancelled;
    publish(channels.lockOrder, { error: acq.violation, action: 'throw' });
    throw acq.violation;
  }
}

export function grant(acq: Acquisition): void {
  acq.state = AcqState.Held;
  heldListAdd(acq);
  if (acq.blocking !== null) unlinkBlocking(acq);
}

/**
 * Called when a request has to queue. Rejects it with `DeadlockError` if waiting would close a
 * cycle in the wait-for graph (the requester is the victim), else with its order violation, else
 * records that the requesting flow's holds are blocked on it.
 */
export function enqueue(acq: Acquisition, ctx: FlowContext | null | undefined, caller: Caller): void {
  const holds = heldIn(ctx);
  // A request whose flow holds nothing can never be part of a wait-for cycle, so its stack is
  // never needed for a report; skipping it keeps contended checked mode affordable.
  if (holds.length === 0) return;
  acq.site ??= captureStack(caller);
  const steps = findWaitCycle(acq, new Set(holds));
  if (steps !== null) {
    acq.state = AcqState.Cancelled;
    const note = acq.violation === null ? null : `This request also breaks an order rule: ${acq.violation.message.split('\n')[0]}`;
    const error = new DeadlockError(`deadlock: ${acq.lock.label} (request #${acq.id}) would wait forever`, deadlockReport(acq, steps, holds, note), cycleData(steps));
    publish(channels.deadlock, { error });
    throw error;
  }
  checkGrantable(acq);
  acq.blocking = holds;
  for (const held of holds) (held.blockedRequests ??= new Set()).add(acq);
}

function unlinkBlocking(acq: Acquisition): void {
  for (const held of acq.blocking as Acquisition[]) held.blockedRequests?.delete(acq);
  acq.blocking = null;
}

/** The request left the queue without being granted (timeout, abort, or an error). */
export function cancel(acq: Acquisition): void {
  acq.state = AcqState.Cancelled;
  if (acq.blocking !== null) unlinkBlocking(acq);
  forgetContinuation(acq);
}

/** The held acquisitions of one lock. A slow-path query: it scans every held acquisition. */
export function heldBy(lock: TrackedLock): Acquisition[] {
  const found: Acquisition[] = [];
  for (let acq = state.heldHead; acq !== null; acq = acq.nextHeld) if (acq.lock === lock) found.push(acq);
  return found;
}

export function release(acq: Acquisition): void {
  acq.state = AcqState.Released;
  heldListRemove(acq);
  forgetContinuation(acq);
}

/** A `Condition.wait` gives the lock up for a while; the acquisition is resumed afterwards. */
export function suspend(acq: Acquisition): void {
  acq.state = AcqState.Suspended;
  heldListRemove(acq);
}

export function resume(acq: Acquisition): void {
  acq.state = AcqState.Waiting;
  if (acq.violation !== null) acq.violation = null;
}

/**
 * In checked mode, waiting on a condition while holding any lock besides the condition's own is
 * a potential deadlock: a notifier may need that lock. Honours `onPotentialDeadlock`.
 */
export function checkConditionWait(guardAcq: Acquisition, ctx: FlowContext | null | undefined, caller: Caller): void {
  const other = heldIn(ctx).find((acq) => acq !== guardAcq);
  if (other === undefined) return;
  const error = orderError('condition-wait', other, guardAcq, caller);
  if (state.config.onPotentialDeadlock === 'throw') {
    publish(channels.lockOrder, { error, action: 'throw' });
    throw error;
  }
  publish(channels.lockOrder, { error, action: 'warn' });
  warn(`condition:${other.lockClass.id}->${guardAcq.lockClass.id}`, 'DEADBOLT_LOCK_ORDER', error.message);
}

/**
 * A LockTimeoutError, published on `channels.timeout` unless `announce` is false (lockAll restates
 * the timeout of one of its locks against the whole call: that timeout was announced already).
 */
export function timeoutError(acq: Acquisition | null, label: string, timeout: number, holders: readonly Acquisition[], queued: number, announce = true): LockTimeoutError {
  const error = new LockTimeoutError(`timed out after ${timeout} ms waiting for ${label}`, timeoutReport(acq, label, timeout, holders, queued), timeout, label);
  if (announce) publish(channels.timeout, { error });
  return error;
}

