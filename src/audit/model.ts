/*
 * The analysis core's internal model: locks as declared, holds along a path, and per-function
 * summaries (units) with the events the rules read. Units are the only thing the interprocedural
 * passes look at, which keeps the whole run linear in the size of the project.
 */
import type ts from 'typescript';
import type { LockDef } from './lock-model.js';
import type { Finding, LabelledLocation, SourceLocation } from './types.js';

/** One lock as declared: a field, a variable, a parameter, a file path, a flag. */
export interface LockDecl {
  readonly id: string;
  readonly name: string;
  readonly location: SourceLocation;
  readonly def: LockDef;
  /** A container of locks (`Map<string, Mutex>`, a keyed-mutex getter): each element is a lock of this class. */
  readonly family: boolean;
  readonly rank?: number;
  readonly acquisitions: SourceLocation[];
  heldAcrossAwait: boolean;
  heavySync: boolean;
  /** Used by some acquisition, or declared at module/class level: listed in the inventory. */
  listed: boolean;
}

/**
 * Which instance a lock expression names, for re-entrancy: `this` (the receiver of the method),
 * `static` (a module binding, one instance), `local` (a variable of the function), `other`.
 */
export type Instance = 'this' | 'static' | 'local' | 'other';

export interface LockRef {
  readonly decl: LockDecl;
  /** async-lock key or proper-lockfile path, when it is a literal. */
  readonly key?: string;
  readonly instance: Instance;
}

export type HoldMode = 'block' | 'try' | 'flag';

/** A lock held at some point of a path. */
export interface Hold {
  readonly ref: LockRef;
  /** decl id plus key: the node of the order graph. */
  readonly lockKey: string;
  readonly label: string;
  readonly site: LabelledLocation;
  /** Held on every path reaching this point (false after a join where only some branches hold it). */
  readonly certain: boolean;
  readonly mode: HoldMode;
  /** Source text of what releases it: `release`, `guard`, `this.release`; absent when the lock object itself is released. */
  readonly handle?: string;
  /** The block whose end releases a `using` guard. */
  readonly scope?: ts.Node;
  /** Path from the acquisition into wrappers, for findings that go through them. */
  readonly via?: readonly LabelledLocation[];
}

export interface AcquireEvent {
  readonly ref: LockRef;
  readonly lockKey: string;
  readonly label: string;
  readonly site: LabelledLocation;
  readonly held: readonly Hold[];
  readonly mode: HoldMode;
  /** Steps inside a wrapper that lead to the real acquisition. */
  readonly via?: readonly LabelledLocation[];
}

export interface CallEvent {
  readonly callee: Unit;
  readonly site: LabelledLocation;
  readonly held: readonly Hold[];
  /** `this.m()` or a plain function: the callee's `this`-locks are the caller's. */
  readonly sameReceiver: boolean;
  /** Inline functions passed as arguments, by index. */
  readonly argUnits: ReadonlyMap<number, Unit>;
  /** Arguments that are parameters of the caller, by index -> caller's parameter index. */
  readonly argParams: ReadonlyMap<number, number>;
}

export interface SiteEvent {
  readonly site: LabelledLocation;
  readonly what: string;
  readonly held: readonly Hold[];
}

export interface ParamInvokeEvent {
  readonly param: number;
  readonly site: LabelledLocation;
  readonly held: readonly Hold[];
}

/** A `return <lock promise>` inside a try that has a finally, waiting for wrapper knowledge. */
export interface ReturnInTryEvent {
  readonly callee: Unit;
  readonly site: LabelledLocation;
  readonly finallySite: SourceLocation;
}

/** How a nested function is run by its parent. */
export type Attachment =
  | { readonly t: 'detached' }
  | { readonly t: 'invoked'; readonly held: readonly Hold[]; readonly extra: readonly Hold[] }
  | { readonly t: 'argument'; readonly call: CallEvent; readonly index: number };

/** A function-like node with its summary. */
export interface Unit {
  readonly id: number;
  readonly node: ts.SignatureDeclaration;
  readonly file: string;
  /** `Store.update`, `withLock`, `Store.update/callback@L12` is avoided: `Store.update/arrow#2`. */
  readonly name: string;
  readonly parent?: Unit;
  readonly params: readonly string[];
  attachment: Attachment;
  readonly acquires: AcquireEvent[];
  readonly calls: CallEvent[];
  readonly blocking: SiteEvent[];
  readonly callbacks: SiteEvent[];
  readonly awaits: SiteEvent[];
  readonly paramInvokes: ParamInvokeEvent[];
  /** Parameters passed straight to a lock's run method: index -> held locks (with the run's lock). */
  readonly paramRuns: ParamInvokeEvent[];
  readonly returnsInTry: ReturnInTryEvent[];
  /** Findings that need nothing beyond this function. */
  readonly local: Finding[];
  walked: boolean;
}

/** A step of a path, with its message. */
/**
 * The same lock seen from a caller that reached it through a call or a receiver: a callee's
 * locals are fresh per call, so another instance at the caller; a `this`-lock stays the caller's
 * own only when the call goes through the same receiver (`this.f()`, a static or module function).
 */
export function throughReceiver(ref: LockRef, sameReceiver: boolean): LockRef {
  if (ref.instance === 'local') return { ...ref, instance: 'other' };
  if (!sameReceiver && ref.instance === 'this') return { ...ref, instance: 'other' };
  return ref;
}

export function step(loc: SourceLocation, message: string): LabelledLocation {
  return { ...loc, message };
}

/** The name of the nearest named function: `Store.save` for a callback inside it. */
export function displayName(unit: Unit): string {
  return unit.name.replace(/(\/callback#\d+)+$/, '');
}
