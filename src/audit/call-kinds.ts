/*
 * What a call does to locks: acquire (and what it returns), run a callback under a lock, release
 * through the lock object, read the lock's state, call a project function, block the thread.
 * Memoised per call node: the walker and the pattern rules both ask.
 */
import ts from 'typescript';
import type { AcquireResult } from './lock-model.js';
import { PROPER_LOCKFILE_DEF } from './lock-model.js';
import { throughReceiver, type HoldMode, type Instance, type LockRef, type Unit } from './model.js';
import type { Resolver, Val } from './resolve.js';
import { isFunctionWithBody, returnedExpressions, unwrap } from './scope.js';
import type { WrapperSpecifier } from './types.js';

export type CallKind =
  | { readonly k: 'acquire'; readonly ref: LockRef; readonly method: string; readonly result: AcquireResult; readonly mode: HoldMode; readonly sync: boolean; readonly receiver?: ts.Expression }
  | { readonly k: 'run'; readonly refs: readonly LockRef[]; readonly method: string; readonly fnIndex: number; readonly mode: HoldMode; readonly keys?: ts.Expression }
  | { readonly k: 'lock-release'; readonly ref: LockRef; readonly receiverText: string }
  | { readonly k: 'state'; readonly ref: LockRef; readonly receiverText: string }
  | { readonly k: 'lockAll'; readonly refs: readonly LockRef[] }
  | { readonly k: 'file-unlock'; readonly keyText: string }
  | { readonly k: 'unit'; readonly unit: Unit; readonly recv: Instance }
  | { readonly k: 'helper'; readonly unit: Unit; readonly recv: Instance; readonly inner: Extract<CallKind, { k: 'acquire' }>; readonly innerNode: ts.CallExpression }
  | { readonly k: 'blocking'; readonly name: string }
  | { readonly k: 'config-wrapper'; readonly name: string; readonly fnIndex: number }
  | { readonly k: 'none' };

const NONE: CallKind = { k: 'none' };

/** The node of the order graph for a lock reference. */
export function lockKey(ref: LockRef): string {
  return ref.key !== undefined ? `${ref.decl.id}[${ref.key}]` : ref.decl.id;
}

/** How a finding names a lock: `Store.mutex`, `lock['accounts']`. */
export function lockLabel(ref: LockRef): string {
  if (ref.key !== undefined) return `${ref.decl.name}[${JSON.stringify(ref.key)}]`;
  return ref.decl.family ? `${ref.decl.name}[…]` : ref.decl.name;
}

function literalKey(expr: ts.Expression | undefined): string | undefined {
  if (expr === undefined) return undefined;
  const value = unwrap(expr);
  return ts.isStringLiteralLike(value) || ts.isNumericLiteral(value) ? value.text : undefined;
}

function lastFunctionArg(call: ts.CallExpression): number {
  for (let i = call.arguments.length - 1; i >= 0; i--) {
    const arg = call.arguments[i];
    if (arg !== undefined && (ts.isArrowFunction(arg) || ts.isFunctionExpression(arg))) return i;
  }
  return Math.max(0, call.arguments.length - 1);
}

export class CallClassifier {
  readonly #memo = new Map<ts.CallExpression, CallKind>();
  readonly #helperMemo = new Map<Unit, { inner: Extract<CallKind, { k: 'acquire' }>; node: ts.CallExpression } | null>();

  /** Method names worth resolving: lock methods, project members, configured wrappers. */
  readonly #names: Set<string>;

  constructor(
    private readonly resolver: Resolver,
    private readonly wrappers: readonly WrapperSpecifier[],
    projectNames: Iterable<string>,
  ) {
    this.#names = resolver.catalogue.methodNames();
    for (const name of projectNames) this.#names.add(name);
    for (const spec of wrappers) this.#names.add(spec.name.slice(spec.name.lastIndexOf('.') + 1));
  }
  /** Method names of a class declared inside a function, noted when the walk reaches it (before its methods are walked). */
  noteMemberNames(names: Iterable<string>): void {
    for (const name of names) this.#names.add(name);
  }


  classify(call: ts.CallExpression): CallKind {
    let kind = this.#memo.get(call);
    if (kind === undefined) {
      kind = this.#classify(call);
      this.#memo.set(call, kind);
    }
    return kind;
  }

  /** `[await] <acquire call>`: the acquisition an expression is, if any. */
  acquisitionOf(expr: ts.Expression | undefined): { call: ts.CallExpression; kind: Extract<CallKind, { k: 'acquire' | 'helper' }>; awaited: boolean } | undefined {
    if (expr === undefined) return undefined;
    let value = unwrap(expr);
    let awaited = false;
    if (ts.isAwaitExpression(value)) {
      awaited = true;
      value = unwrap(value.expression);
    }
    if (!ts.isCallExpression(value)) return undefined;
    const kind = this.classify(value);
    if (kind.k === 'acquire' || kind.k === 'helper') return { call: value, kind, awaited };
    return undefined;
  }

  #classify(call: ts.CallExpression): CallKind {
    const callee = unwrap(call.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const method = callee.name.text;
      // Most calls (`list.push`, `console.log`) cannot reach a lock: skip resolving their receiver.
      if (!this.#names.has(method) && !method.endsWith('Sync')) return NONE;
      if (callee.expression.kind === ts.SyntaxKind.Identifier && (callee.expression as ts.Identifier).text === 'JSON') return NONE;
      const recv = this.resolver.valOf(callee.expression);
      const byReceiver = this.#onValue(call, recv, method, callee.expression);
      if (byReceiver !== undefined) return byReceiver;
      const wrapper = this.#configWrapper(call, method, recv, callee.expression);
      if (wrapper !== undefined) return wrapper;
      return NONE;
    }
    if (ts.isIdentifier(callee)) {
      const val = this.resolver.valOf(callee);
      if (val?.k === 'lockFn') return this.#lockFunction(call, val.fn);
      if (val?.k === 'blocking') return { k: 'blocking', name: val.name };
      if (val?.k === 'fn') return this.#unitCall(val.unit, val.recv);
      const wrapper = this.#configWrapper(call, callee.text, undefined, undefined);
      if (wrapper !== undefined) return wrapper;
    }
    return NONE;
  }

  #unitCall(unit: Unit, recv: Instance): CallKind {
    const helper = this.#helper(unit);
    if (helper !== null) {
      const inner = helper.inner;
      const ref = throughReceiver(inner.ref, recv === 'this' || recv === 'static');
      return { k: 'helper', unit, recv, inner: { ...inner, ref }, innerNode: helper.node };
    }
    return { k: 'unit', unit, recv };
  }

  /** A function that returns an acquisition (`lock() { return this.mutex.acquire(); }`) acquires for its caller. */
  #helper(unit: Unit): { inner: Extract<CallKind, { k: 'acquire' }>; node: ts.CallExpression } | null {
    const memo = this.#helperMemo.get(unit);
    if (memo !== undefined) return memo;
    this.#helperMemo.set(unit, null);
    const node = unit.node as ts.Node;
    if (!isFunctionWithBody(node) || node.body === undefined) return null;
    for (const expr of returnedExpressions(node)) {
      let found = this.acquisitionOf(expr);
      if (found === undefined) {
        // const release = await this.m.acquire(); ... return release;
        const value = unwrap(expr);
        if (ts.isIdentifier(value)) {
          const decl = ts.isBlock(node.body) ? findDeclaration(node.body, value.text) : undefined;
          found = decl?.initializer !== undefined ? this.acquisitionOf(decl.initializer) : undefined;
        }
      }
      if (found !== undefined && found.kind.k === 'acquire' && found.kind.mode === 'block') {
        const result = { inner: found.kind, node: found.call };
        this.#helperMemo.set(unit, result);
        return result;
      }
    }
    return null;
  }

  #lockFunction(call: ts.CallExpression, fn: string): CallKind {
    const args = call.arguments;
    if (fn === 'file-lock' || fn === 'file-lock-sync') {
      const target = args[0];
      if (target === undefined) return NONE;
      const keyText = target.getText();
      const file = this.resolver.fileOf(call);
      const decl = this.resolver.declare({ id: `${file}#lockfile(${keyText})`, name: `lockfile(${keyText})`, at: call, instance: 'static' }, PROPER_LOCKFILE_DEF, false);
      return { k: 'acquire', ref: { decl, instance: 'static' }, method: fn === 'file-lock' ? 'lock' : 'lockSync', result: 'release-fn', mode: 'block', sync: fn === 'file-lock-sync' };
    }
    if (fn === 'file-unlock') return args[0] !== undefined ? { k: 'file-unlock', keyText: args[0].getText() } : NONE;
    if (fn === 'file-check') {
      const target = args[0];
      if (target === undefined) return NONE;
      const decl = this.resolver.decls.get(`${this.resolver.fileOf(call)}#lockfile(${target.getText()})`);
      return decl !== undefined ? { k: 'state', ref: { decl, instance: 'static' }, receiverText: target.getText() } : NONE;
    }
    if (fn === 'lockAll' || fn === 'runAll') {
      const list = args[0] !== undefined ? unwrap(args[0]) : undefined;
      const refs: LockRef[] = [];
      if (list !== undefined && ts.isArrayLiteralExpression(list)) {
        for (const element of list.elements) {
          const val = this.#lockVal(this.resolver.valOf(element));
          if (val !== undefined) refs.push(val.ref);
        }
      }
      if (refs.length === 0) return NONE;
      return fn === 'lockAll' ? { k: 'lockAll', refs } : { k: 'run', refs, method: 'runAll', fnIndex: 1, mode: 'block' };
    }
    return NONE;
  }

  #lockVal(val: Val | undefined): Extract<Val, { k: 'lock' }> | undefined {
    if (val?.k === 'lock') return val;
    return undefined;
  }

  #onValue(call: ts.CallExpression, recv: Val | undefined, method: string, receiver: ts.Expression): CallKind | undefined {
    if (recv === undefined) return undefined;
    if (recv.k === 'lock') {
      const def = recv.ref.decl.def;
      const tryOnly = recv.tryOnly === true;
      const acquired = def.acquire.get(method);
      if (acquired !== undefined) return { k: 'acquire', ref: recv.ref, method, result: acquired, mode: tryOnly ? 'try' : 'block', sync: def.syncAcquire.has(method), receiver };
      const tried = def.tryAcquire.get(method);
      if (tried !== undefined) return { k: 'acquire', ref: recv.ref, method, result: tried, mode: 'try', sync: true, receiver };
      const fnIndex = def.run.get(method);
      if (fnIndex !== undefined) {
        if (def.keyed) return this.#keyedRun(call, recv.ref, method, fnIndex, tryOnly);
        return { k: 'run', refs: [recv.ref], method, fnIndex, mode: tryOnly ? 'try' : 'block' };
      }
      if (def.release.has(method)) return { k: 'lock-release', ref: recv.ref, receiverText: receiver.getText() };
      if (def.state.has(method)) {
        const key = def.keyed ? literalKey(call.arguments[0]) : undefined;
        return { k: 'state', ref: key !== undefined ? { ...recv.ref, key } : recv.ref, receiverText: receiver.getText() };
      }
      return undefined;
    }
    if (recv.k === 'nodeNs') return method.endsWith('Sync') ? { k: 'blocking', name: `${recv.mod}.${method}` } : undefined;
    if (recv.k === 'pkgNs') {
      const known = this.resolver.catalogue.lookup(recv.spec, method);
      if (known?.t === 'fn') return this.#lockFunction(call, known.fn);
      return undefined;
    }
    if (recv.k === 'fileNs' || recv.k === 'instance' || recv.k === 'class' || recv.k === 'obj') {
      const member = this.resolver.memberVal(recv, method, receiver);
      if (member?.k === 'fn') return this.#unitCall(member.unit, member.recv);
      if (member?.k === 'lockFn') return this.#lockFunction(call, member.fn);
      if (member?.k === 'blocking') return { k: 'blocking', name: member.name };
    }
    return undefined;
  }

  /** async-lock: `acquire(key, fn)` holds the key; `acquire([a, b], fn)` takes the keys in array order. */
  #keyedRun(call: ts.CallExpression, ref: LockRef, method: string, fnIndex: number, tryOnly: boolean): CallKind {
    const keyArg = call.arguments[0];
    const mode: HoldMode = tryOnly ? 'try' : 'block';
    if (keyArg === undefined) return { k: 'run', refs: [ref], method, fnIndex, mode };
    const keyExpr = unwrap(keyArg);
    const single = literalKey(keyExpr);
    if (single !== undefined) return { k: 'run', refs: [{ ...ref, key: single }], method, fnIndex, mode };
    if (ts.isArrayLiteralExpression(keyExpr) && keyExpr.elements.every((e) => literalKey(e) !== undefined)) {
      return { k: 'run', refs: keyExpr.elements.map((e) => ({ ...ref, key: literalKey(e) as string })), method, fnIndex, mode };
    }
    return { k: 'run', refs: [ref], method, fnIndex, mode, keys: keyExpr };
  }

  #configWrapper(call: ts.CallExpression, name: string, recv: Val | undefined, receiver: ts.Expression | undefined): CallKind | undefined {
    for (const spec of this.wrappers) {
      const dot = spec.name.lastIndexOf('.');
      const owner = dot >= 0 ? spec.name.slice(0, dot) : undefined;
      const member = dot >= 0 ? spec.name.slice(dot + 1) : spec.name;
      if (member !== name) continue;
      if (owner !== undefined) {
        const clsName = recv?.k === 'instance' || recv?.k === 'class' ? recv.cls.name : undefined;
        const text = receiver?.getText() ?? '';
        const last = text.slice(text.lastIndexOf('.') + 1);
        if (clsName !== owner && text !== owner && last.toLowerCase() !== owner.toLowerCase()) continue;
      }
      return { k: 'config-wrapper', name: spec.name, fnIndex: spec.callbackArg ?? lastFunctionArg(call) };
    }
    return undefined;
  }
}

function findDeclaration(body: ts.Block, name: string): ts.VariableDeclaration | undefined {
  let found: ts.VariableDeclaration | undefined;
  const visit = (node: ts.Node): void => {
    if (found !== undefined) return;
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
      found = node;
      return;
    }
    if (isFunctionWithBody(node)) return;
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(body, visit);
  return found;
}
