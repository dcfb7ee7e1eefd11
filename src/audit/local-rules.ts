/*
 * The rules that need nothing beyond the function being walked: unreleased-lock,
 * unawaited-lock-promise, check-then-acquire, multi-lock-unordered, and the boolean-flag locks
 * (`if (this.busy) return; this.busy = true; try { ... } finally { this.busy = false }`).
 */
import ts from 'typescript';
import { bindingNames } from './bindings.js';
import { lockKey, lockLabel, type CallClassifier } from './call-kinds.js';
import { makeFinding } from './fingerprint.js';
import { FLAG_DEF } from './lock-model.js';
import { displayName, type Hold, type LockRef, type Unit } from './model.js';
import { isKeyList, isOrdered } from './patterns.js';
import { checkRelease, checkReleaseInBody, handleEscapes, isRelease, type ReleaseMatcher, type ReleaseProblem } from './release-check.js';
import { locate } from './resolve.js';
import { isFunctionWithBody, lookup, unwrap } from './scope.js';
import type { LabelledLocation, SourceLocation } from './types.js';
import type { WalkContext, Walker } from './walker.js';

interface FlagGuard {
  readonly text: string;
  readonly site: SourceLocation;
  awaited: boolean;
}

interface StateCheck {
  readonly declId: string;
  readonly label: string;
  readonly site: SourceLocation;
  readonly negated: boolean;
}

const ACQUIRE_NAMES = new Set(['acquire', 'lock', 'acquireAsync', 'writeLock', 'wait', 'write']);

function isAsync(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false);
}

function exitsAtOnce(statement: ts.Statement): boolean {
  if (ts.isReturnStatement(statement) || ts.isThrowStatement(statement)) return true;
  if (ts.isBlock(statement)) {
    const last = statement.statements[statement.statements.length - 1];
    return statement.statements.length <= 3 && last !== undefined && (ts.isReturnStatement(last) || ts.isThrowStatement(last));
  }
  return false;
}

export class LocalRules {
  readonly #flags = new WeakMap<WalkContext, FlagGuard[]>();
  readonly #checks = new WeakMap<WalkContext, StateCheck[]>();
  readonly #calls: CallClassifier;
  /** Names of lock-state methods and getters (`isLocked`, `isBusy`, ...), to skip other conditions fast. */
  readonly #stateNames: Set<string>;

  constructor(private readonly walker: Walker) {
    this.#calls = walker.calls;
    this.#stateNames = walker.resolver.catalogue.stateNames();
  }

  #report(unit: Unit, finding: Parameters<typeof makeFinding>[0]): void {
    unit.local.push(makeFinding(finding));
  }

  #loc(ctx: WalkContext, node: ts.Node): SourceLocation {
    return locate(ctx.unit.file, node);
  }

  // ---- unreleased-lock -----------------------------------------------------------------------

  releaseCheck(ctx: WalkContext, statement: ts.Statement, hold: Hold, matcher: ReleaseMatcher | null, call: ts.CallExpression): void {
    const def = hold.ref.decl.def;
    let effective = matcher;
    if (def.kind === 'proper-lockfile') effective = { ...(matcher ?? {}), unlockKey: call.arguments[0]?.getText() ?? '' };
    if (effective === null) {
      this.#report(ctx.unit, {
        ruleId: 'unreleased-lock',
        message: `The ${def.type} guard of ${hold.label} is discarded, so the lock can never be released.`,
        location: this.#loc(ctx, call),
        locks: [hold.ref.decl.id],
        functions: [displayName(ctx.unit)],
        discriminator: `discarded:${hold.label}`,
      });
      return;
    }
    const handle = effective.handle;
    if (handle !== undefined && (handle.includes('.') || handle.includes('[') || handleEscapes(ctx.body, handle, effective))) return;
    const problem = checkRelease(statement, ctx.body, effective);
    this.#releaseProblem(ctx.unit, hold, problem, call, isAsync(ctx.unit.node));
  }

  callbackRelease(unit: Unit, fn: ts.FunctionLikeDeclaration, handle: string, holds: readonly Hold[]): void {
    const hold = holds[0];
    if (hold === undefined || fn.body === undefined) return;
    const matcher: ReleaseMatcher = { handle };
    if (handleEscapes(fn.body, handle, matcher)) return;
    this.#releaseProblem(unit, hold, checkReleaseInBody(fn.body, matcher), fn, true);
  }

  #releaseProblem(unit: Unit, hold: Hold, problem: ReleaseProblem | null, at: ts.Node, asyncFn: boolean): void {
    if (problem === null) return;
    // A sync re-entrancy guard cannot be left set by an await; only its exits matter.
    if (hold.mode === 'flag' && problem.t === 'may-throw' && !asyncFn) return;
    const where = (node: ts.Node): LabelledLocation => ({ ...locate(unit.file, node), message: '' });
    let message: string;
    let related: LabelledLocation[] = [];
    switch (problem.t) {
      case 'early-exit':
        message = `${hold.label} is not released when this path leaves at line ${where(problem.node).line}: the ${ts.isThrowStatement(problem.node) ? 'throw' : 'return'} skips the release.`;
        related = [{ ...where(problem.node), message: 'leaves without releasing' }];
        break;
      case 'may-throw':
        message = `${hold.label} is not released if \`${problem.node.getText().slice(0, 60)}\` throws: the release is not in a finally.`;
        related = [{ ...where(problem.node), message: 'can throw before the release' }];
        break;
      case 'callback-only':
        message = `${hold.label} is released only inside a callback, which may never run.`;
        related = [{ ...where(problem.node), message: 'the only release' }];
        break;
      default:
        message = `${hold.label} is acquired here and never released on some path.`;
    }
    const lockedAt = hold.site;
    this.#report(unit, {
      ruleId: 'unreleased-lock',
      message,
      location: { file: lockedAt.file, line: lockedAt.line, column: lockedAt.column, ...(lockedAt.endLine !== undefined ? { endLine: lockedAt.endLine, endColumn: lockedAt.endColumn } : {}) } as SourceLocation,
      related,
      locks: [hold.ref.decl.id],
      functions: [displayName(unit)],
      discriminator: `${problem.t}:${hold.label}`,
    });
    void at;
  }

  // ---- unawaited-lock-promise ----------------------------------------------------------------

  unawaitedAcquire(ctx: WalkContext, acquisition: NonNullable<ReturnType<CallClassifier['acquisitionOf']>>, statement: ts.Statement, handle: string | undefined): void {
    const kind = acquisition.kind.k === 'helper' ? acquisition.kind.inner : acquisition.kind;
    const label = lockLabel(kind.ref);
    const base = { ruleId: 'unawaited-lock-promise' as const, location: this.#loc(ctx, acquisition.call), locks: [kind.ref.decl.id], functions: [displayName(ctx.unit)] };
    const using = ts.isVariableStatement(statement) && (statement.declarationList.flags & ts.NodeFlags.Using) !== 0;
    if (using) {
      this.#report(ctx.unit, { ...base, message: `\`using\` holds the promise from ${label}.${kind.method}(), not the guard: add \`await\` before the acquire.`, discriminator: `using:${label}` });
      return;
    }
    if (handle === undefined) {
      if (ts.isExpressionStatement(statement)) {
        this.#report(ctx.unit, { ...base, message: `${label}.${kind.method}() is not awaited: the code after it runs before the lock is held.`, discriminator: `bare:${label}` });
      }
      return;
    }
    let use: ts.Node | null = null;
    const matcher: ReleaseMatcher = { handle };
    const visit = (node: ts.Node): void => {
      if (use !== null) return;
      if (node.pos > statement.end && isRelease(node, matcher)) use = node;
      ts.forEachChild(node, visit);
    };
    visit(ctx.body);
    if (use === null) return;
    this.#report(ctx.unit, {
      ...base,
      message: `${handle} holds the promise from ${label}.${kind.method}(), not a release: it is used as one without \`await\`, so the lock is never released.`,
      related: [{ ...this.#loc(ctx, use), message: 'used as a release function' }],
      discriminator: `release-promise:${label}`,
    });
  }

  returnInTry(ctx: WalkContext, statement: ts.ReturnStatement): void {
    const tryStatement = ctx.tryFinally[ctx.tryFinally.length - 1];
    if (tryStatement === undefined || statement.expression === undefined) return;
    let expr = unwrap(statement.expression);
    while (ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression) && ['then', 'catch', 'finally'].includes(expr.expression.name.text)) expr = unwrap(expr.expression.expression);
    if (!ts.isCallExpression(expr)) return;
    const kind = this.#calls.classify(expr);
    const finallySite = this.#loc(ctx, tryStatement.finallyBlock as ts.Block);
    let label: string | undefined;
    let locks: string[] = [];
    if (kind.k === 'run') {
      label = kind.refs.map(lockLabel).join(', ');
      locks = kind.refs.map((r) => r.decl.id);
    } else if (kind.k === 'acquire' && !kind.sync && kind.result !== 'boolean') {
      label = lockLabel(kind.ref);
      locks = [kind.ref.decl.id];
    } else if (kind.k === 'config-wrapper') {
      label = kind.name;
      locks = [`wrapper:${kind.name}`];
    } else if (kind.k === 'unit') {
      ctx.unit.returnsInTry.push({ callee: kind.unit, site: { ...this.#loc(ctx, expr), message: `returns ${kind.unit.name}(...) without await` }, finallySite });
      return;
    }
    if (label === undefined) return;
    this.#report(ctx.unit, {
      ruleId: 'unawaited-lock-promise',
      message: `The promise from ${label} is returned without \`await\` inside try/finally: the finally runs before the locked work does.`,
      location: this.#loc(ctx, expr),
      related: [{ ...finallySite, message: 'runs early' }],
      locks,
      functions: [displayName(ctx.unit)],
      discriminator: `return-in-try:${label}`,
    });
  }

  // ---- check-then-acquire --------------------------------------------------------------------

  stateCheck(ctx: WalkContext, statement: ts.IfStatement): StateCheck | null {
    let found: StateCheck | null = null;
    const names = this.#stateNames;
    const visit = (node: ts.Node, negated: boolean): void => {
      if (found !== null || isFunctionWithBody(node)) return;
      if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) {
        visit(node.operand, !negated);
        return;
      }
      let ref: LockRef | undefined;
      if (ts.isCallExpression(node) && (ts.isIdentifier(node.expression) ? node.expression.text === 'check' : ts.isPropertyAccessExpression(node.expression) && names.has(node.expression.name.text))) {
        const kind = this.#calls.classify(node);
        if (kind.k === 'state') ref = kind.ref;
      } else if (ts.isPropertyAccessExpression(node) && names.has(node.name.text) && !(node.parent !== undefined && ts.isCallExpression(node.parent) && node.parent.expression === node)) {
        const val = this.walker.resolver.valOf(node.expression);
        if (val?.k === 'lock' && val.ref.decl.def.state.has(node.name.text)) ref = val.ref;
      }
      if (ref !== undefined) {
        found = { declId: ref.decl.id, label: lockLabel(ref), site: this.#loc(ctx, node), negated };
        return;
      }
      ts.forEachChild(node, (child) => visit(child, negated));
    };
    visit(statement.expression, false);
    const check = found as StateCheck | null;
    if (check === null) return null;
    const list = this.#checks.get(ctx) ?? [];
    this.#checks.set(ctx, list);
    if (check.negated) list.push(check);
    return check;
  }

  endStateCheck(ctx: WalkContext, check: StateCheck, thenExits: boolean): void {
    const list = this.#checks.get(ctx) ?? [];
    if (check.negated) {
      list.splice(list.indexOf(check), 1);
    } else if (thenExits) {
      // if (m.isLocked()) return; ... the rest of the function runs "knowing" it is free.
      list.push(check);
    }
  }

  acquireSeen(ctx: WalkContext, ref: LockRef, at: ts.Node, mode: Hold['mode']): void {
    if (mode !== 'block') return;
    const list = this.#checks.get(ctx);
    const check = list?.find((c) => c.declId === ref.decl.id);
    if (check === undefined || list === undefined) return;
    list.splice(list.indexOf(check), 1);
    this.#report(ctx.unit, {
      ruleId: 'check-then-acquire',
      message: `${lockLabel(ref)} is checked and then acquired in two steps: another task can take it in between, so the check does not make this acquire safe.`,
      location: this.#loc(ctx, at),
      related: [{ ...check.site, message: 'checks the lock state' }],
      locks: [ref.decl.id],
      functions: [displayName(ctx.unit)],
      discriminator: `state:${check.label}`,
    });
  }

  flagGuard(ctx: WalkContext, statement: ts.IfStatement): void {
    let cond = unwrap(statement.expression);
    let negated = false;
    if (ts.isPrefixUnaryExpression(cond) && cond.operator === ts.SyntaxKind.ExclamationToken) {
      negated = true;
      cond = unwrap(cond.operand);
    }
    const isFlagShape = (ts.isPropertyAccessExpression(cond) && cond.expression.kind === ts.SyntaxKind.ThisKeyword) || ts.isIdentifier(cond);
    if (!isFlagShape) return;
    if (!negated && !exitsAtOnce(statement.thenStatement)) return;
    if (this.walker.resolver.valOf(cond) !== undefined) return;
    const list = this.#flags.get(ctx) ?? [];
    this.#flags.set(ctx, list);
    list.push({ text: cond.getText(), site: this.#loc(ctx, statement.expression), awaited: false });
  }

  awaitSeen(ctx: WalkContext): void {
    for (const flag of this.#flags.get(ctx) ?? []) flag.awaited = true;
  }

  assignment(ctx: WalkContext, node: ts.BinaryExpression): void {
    const value = unwrap(node.right).kind;
    if (value !== ts.SyntaxKind.TrueKeyword && value !== ts.SyntaxKind.FalseKeyword) return;
    const text = unwrap(node.left).getText();
    if (value === ts.SyntaxKind.FalseKeyword) {
      if (ctx.held.some((h) => h.mode === 'flag' && h.handle === text)) ctx.held = ctx.held.filter((h) => !(h.mode === 'flag' && h.handle === text));
      return;
    }
    const list = this.#flags.get(ctx);
    const guard = list?.find((f) => f.text === text);
    if (guard === undefined || list === undefined) return;
    // A flag that this function never clears is a latch (`closed`, `initialised`), not a lock.
    if (!this.#clears(ctx.body, text)) return;
    list.splice(list.indexOf(guard), 1);
    const ref = this.#flagRef(ctx, node.left);
    if (ref === undefined) return;
    const label = lockLabel(ref);
    ctx.unit.acquires.push({ ref, lockKey: lockKey(ref), label, site: { ...this.#loc(ctx, node), message: `sets ${label}` }, held: ctx.held, mode: 'flag' });
    if (guard.awaited) {
      this.#report(ctx.unit, {
        ruleId: 'check-then-acquire',
        message: `${label} is checked, then set only after an await: two calls can both pass the check before either sets it.`,
        location: this.#loc(ctx, node),
        related: [{ ...guard.site, message: 'checks the flag' }],
        locks: [ref.decl.id],
        functions: [displayName(ctx.unit)],
        discriminator: `flag:${label}`,
      });
    }
    const hold = this.walker.hold(ctx, ref, node, 'flag', text);
    ctx.held = [...ctx.held, hold];
    let statement: ts.Node = node;
    while (statement.parent !== undefined && !ts.isExpressionStatement(statement)) statement = statement.parent;
    if (ts.isExpressionStatement(statement)) {
      const problem = checkRelease(statement, ctx.body, { flag: text });
      this.#releaseProblem(ctx.unit, hold, problem, node, isAsync(ctx.unit.node));
    }
  }

  #clears(body: ts.Node, text: string): boolean {
    let found = false;
    const visit = (node: ts.Node): void => {
      if (found) return;
      if (isRelease(node, { flag: text })) {
        found = true;
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(body);
    return found;
  }

  #flagRef(ctx: WalkContext, target: ts.Expression): LockRef | undefined {
    const left = unwrap(target);
    const resolver = this.walker.resolver;
    if (ts.isPropertyAccessExpression(left)) {
      const self = resolver.thisVal(left);
      if (self?.k !== 'instance') return undefined;
      const decl = resolver.declare({ id: `${self.cls.file}#${self.cls.name}.${left.name.text}`, name: `${self.cls.name}.${left.name.text}`, at: left, instance: 'this' }, FLAG_DEF, false);
      return { decl, instance: 'this' };
    }
    if (ts.isIdentifier(left)) {
      // Only module bindings: a function's local boolean is loop state, never shared between calls.
      const sym = lookup(left);
      if (sym === undefined || sym.k !== 'top') return undefined;
      const decl = resolver.declare({ id: `${ctx.unit.file}#${left.text}`, name: left.text, at: left, instance: 'static' }, FLAG_DEF, false);
      return { decl, instance: 'static' };
    }
    return undefined;
  }

  // ---- multi-lock-unordered ------------------------------------------------------------------

  keyedMulti(ctx: WalkContext, call: ts.CallExpression, ref: LockRef, keys: ts.Expression): void {
    if (!isKeyList(keys) || isOrdered(keys, ctx.sorted)) return;
    this.#report(ctx.unit, {
      ruleId: 'multi-lock-unordered',
      message: `${ref.decl.name} takes the keys of \`${keys.getText().slice(0, 40)}\` in the order the caller gave them; callers passing the same keys in another order deadlock.`,
      location: this.#loc(ctx, call),
      locks: [ref.decl.id],
      functions: [displayName(ctx.unit)],
      discriminator: `keys:${keys.getText()}`,
    });
  }

  /** Promise.all(keys.map((k) => locks.get(k).acquire())) */
  promiseAll(ctx: WalkContext, call: ts.CallExpression): void {
    const text = call.expression.getText();
    if (text !== 'Promise.all' && text !== 'Promise.allSettled') return;
    const arg = call.arguments[0] !== undefined ? unwrap(call.arguments[0]) : undefined;
    if (arg === undefined || !ts.isCallExpression(arg) || !ts.isPropertyAccessExpression(arg.expression) || arg.expression.name.text !== 'map') return;
    const fn = arg.arguments[0] !== undefined ? unwrap(arg.arguments[0]) : undefined;
    if (fn === undefined || !isFunctionWithBody(fn) || fn.body === undefined) return;
    const params = fn.parameters.flatMap((p) => bindingNames(p.name));
    const acquisition = this.#findAcquisition(fn.body, params);
    if (acquisition === null) return;
    const list = arg.expression.expression;
    if (isOrdered(list, ctx.sorted)) return;
    this.#report(ctx.unit, {
      ruleId: 'multi-lock-unordered',
      message: `Locks are acquired for each element of \`${list.getText().slice(0, 40)}\` in the caller's order (${acquisition.label}); two callers with the same keys in another order deadlock.`,
      location: this.#loc(ctx, call),
      related: [{ ...this.#loc(ctx, acquisition.node), message: 'acquires one lock per element' }],
      locks: acquisition.lock !== undefined ? [acquisition.lock] : [],
      functions: [displayName(ctx.unit)],
      discriminator: `all:${list.getText()}`,
    });
  }

  /** for (const key of keys) releases.push(await this.lockFor(key).acquire()) */
  loopAcquisitions(ctx: WalkContext, loop: ts.ForOfStatement, _first: number): void {
    if (!ts.isVariableDeclarationList(loop.initializer)) return;
    const names = loop.initializer.declarations.flatMap((d) => bindingNames(d.name));
    if (!loop.statement.getText().includes('.push(')) return;
    const acquisition = this.#findAcquisition(loop.statement, names);
    if (acquisition === null || isOrdered(loop.expression, ctx.sorted)) return;
    this.#report(ctx.unit, {
      ruleId: 'multi-lock-unordered',
      message: `The loop takes a lock per element of \`${loop.expression.getText().slice(0, 40)}\` in the caller's order (${acquisition.label}) and keeps them all; two callers with the same keys in another order deadlock.`,
      location: this.#loc(ctx, loop),
      related: [{ ...this.#loc(ctx, acquisition.node), message: 'acquires one lock per element' }],
      locks: acquisition.lock !== undefined ? [acquisition.lock] : [],
      functions: [displayName(ctx.unit)],
      discriminator: `loop:${loop.expression.getText()}`,
    });
  }

  /** An acquire-style call (one that returns a release, so the locks pile up) that depends on `names`. */
  #findAcquisition(root: ts.Node, names: readonly string[]): { node: ts.Node; label: string; lock?: string } | null {
    let found: { node: ts.Node; label: string; lock?: string } | null = null;
    const wanted = new Set(names);
    // An identifier naming one of `names` (not a property name: `x.key` does not read `key`).
    const mentions = (node: ts.Node): boolean => {
      if (ts.isIdentifier(node)) return wanted.has(node.text) && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node);
      return ts.forEachChild(node, (child) => (mentions(child) ? true : undefined)) === true;
    };
    const visit = (node: ts.Node): void => {
      if (found !== null) return;
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const kind = this.#calls.classify(node);
        const receiver = node.expression.expression;
        if ((kind.k === 'acquire' && kind.mode === 'block' && kind.result !== 'boolean') || kind.k === 'helper') {
          const ref = kind.k === 'helper' ? kind.inner.ref : kind.ref;
          if (mentions(node)) {
            found = { node, label: lockLabel(ref), lock: ref.decl.id };
            return;
          }
        } else if (kind.k === 'none' && ACQUIRE_NAMES.has(node.expression.name.text) && mentions(receiver)) {
          found = { node, label: `${receiver.getText()}.${node.expression.name.text}()` };
          return;
        }
      }
      if (isFunctionWithBody(node) && node !== root) return;
      ts.forEachChild(node, visit);
    };
    visit(root);
    return found;
  }
}
