/*
 * One walk per function: follows statements in order with the set of locks held (branches are
 * walked apart and joined; a lock held on only some branches is "maybe held"), and records what
 * the rules need as events on the function's unit: acquisitions, calls, awaits, blocking work,
 * callbacks, all with the locks held at that point. Nested functions become units of their own,
 * attached to the site that runs them (a lock's run callback, an array method) or detached.
 * Checks that need nothing beyond one function are made here (see local-rules.ts); the statement
 * level (control flow) is in walker-statements.ts.
 */
import ts from 'typescript';
import { lockKey, lockLabel, type CallClassifier, type CallKind } from './call-kinds.js';
import type { FileModel } from './bindings.js';
import { LocalRules } from './local-rules.js';
import { WRAPPER_DEF } from './lock-model.js';
import { step, type Hold, type HoldMode, type LockRef, type Unit } from './model.js';
import { isEmit, isListenerElement, isListenerName, isSyncArrayMethod, unboundedJson } from './patterns.js';
import { isRelease, type ReleaseMatcher } from './release-check.js';
import { locate, type Resolver } from './resolve.js';
import { isFunctionWithBody, paramOf, unwrap } from './scope.js';
import type { UnitRegistry } from './units.js';
import { walkClass, walkStatements } from './walker-statements.js';

/** The state of one function's walk. */
export interface WalkContext {
  readonly unit: Unit;
  readonly body: ts.Node;
  /** Holds inherited through 'invoked' attachments, for parameter events of enclosing functions. */
  readonly chain: readonly Hold[];
  held: Hold[];
  readonly sorted: Set<string>;
  /** try statements (with a finally) whose try block encloses the current point. */
  readonly tryFinally: ts.TryStatement[];
  /** `visit` bound to this context, made once: a closure per node would be most of the garbage. */
  readonly visitChild: (child: ts.Node) => void;
}

type Acquisition = NonNullable<ReturnType<CallClassifier['acquisitionOf']>>;

export class Walker {
  readonly local: LocalRules;

  constructor(
    readonly resolver: Resolver,
    readonly calls: CallClassifier,
    readonly units: UnitRegistry,
  ) {
    this.local = new LocalRules(this);
  }

  /** Walks a file's module code, and through it every function in the file. */
  walkFile(file: FileModel): void {
    const unit = this.units.unitFor(file.sf);
    const ctx = this.#context(unit, file.sf, []);
    this.statements(ctx, file.sf.statements);
    unit.walked = true;
  }

  #context(unit: Unit, body: ts.Node, chain: readonly Hold[], initial: Hold[] = []): WalkContext {
    const ctx: WalkContext = { unit, body, chain, held: initial, sorted: new Set(), tryFinally: [], visitChild: (child) => this.visit(ctx, child) };
    return ctx;
  }

  /** Creates and walks the unit of a nested function. */
  nested(ctx: WalkContext | null, fn: ts.FunctionLikeDeclaration, attachment: Unit['attachment'], initial: Hold[] = []): Unit {
    const unit = this.units.unitFor(fn);
    if (unit.walked) return unit;
    unit.walked = true;
    unit.attachment = attachment;
    const chain = attachment.t === 'invoked' && ctx !== null ? [...ctx.chain, ...attachment.held, ...attachment.extra] : [];
    const body = fn.body;
    if (body === undefined) return unit;
    const inner = this.#context(unit, body, chain, initial);
    if (ts.isBlock(body)) this.statements(inner, body.statements);
    else this.visit(inner, body);
    return unit;
  }

  site(ctx: WalkContext, node: ts.Node, message: string): ReturnType<typeof step> {
    return step(locate(ctx.unit.file, node), message);
  }

  /** Walks a statement list; true when it always exits (return/throw). See walker-statements.ts. */
  statements(ctx: WalkContext, list: readonly ts.Statement[], scope?: ts.Node): boolean {
    return walkStatements(this, ctx, list, scope);
  }

  classLike(ctx: WalkContext, node: ts.ClassLikeDeclaration): void {
    walkClass(this, ctx, node);
  }

  // ---- acquisitions --------------------------------------------------------------------------

  /** A new hold after an acquiring statement, and the check that it is released. */
  acquired(ctx: WalkContext, acquisition: Acquisition, statement: ts.Statement, handle: string | undefined, using: boolean): void {
    const kind = acquisition.kind;
    const inner = kind.k === 'helper' ? kind.inner : kind;
    const promiseResult = !inner.sync && inner.result !== 'boolean';
    if (promiseResult && !acquisition.awaited) {
      this.local.unawaitedAcquire(ctx, acquisition, statement, handle);
      return;
    }
    const hold = this.hold(ctx, inner.ref, acquisition.call, inner.mode, handle, using ? statement.parent : undefined);
    ctx.held = [...ctx.held, hold];
    if (using || inner.mode !== 'block') return;
    const receiverText = kind.k === 'acquire' ? kind.receiver?.getText() : undefined;
    const def = inner.ref.decl.def;
    let matcher: ReleaseMatcher | null = null;
    if (handle !== undefined) matcher = { handle, ...(receiverText !== undefined && def.release.size > 0 ? { object: { text: receiverText, methods: def.release } } : {}) };
    else if (receiverText !== undefined && def.release.size > 0) matcher = { object: { text: receiverText, methods: def.release } };
    this.local.releaseCheck(ctx, statement, hold, matcher, acquisition.call);
  }

  hold(ctx: WalkContext, ref: LockRef, at: ts.Node, mode: HoldMode, handle?: string, scope?: ts.Node, via?: Hold['via']): Hold {
    const label = lockLabel(ref);
    return {
      ref,
      lockKey: lockKey(ref),
      label,
      site: this.site(ctx, at, `acquires ${label}`),
      certain: true,
      mode,
      ...(handle !== undefined ? { handle } : {}),
      ...(scope !== undefined ? { scope } : {}),
      ...(via !== undefined ? { via } : {}),
    };
  }

  #recordAcquire(ctx: WalkContext, ref: LockRef, at: ts.Node, mode: HoldMode, via?: Hold['via']): void {
    const label = lockLabel(ref);
    ctx.unit.acquires.push({ ref, lockKey: lockKey(ref), label, site: this.site(ctx, at, `acquires ${label}`), held: ctx.held, mode, ...(via !== undefined ? { via } : {}) });
    this.local.acquireSeen(ctx, ref, at, mode);
  }

  #release(ctx: WalkContext, call: ts.CallExpression, kind: CallKind): void {
    if (ctx.held.length === 0) return;
    let remaining = ctx.held.filter((hold) => !(hold.handle !== undefined && isRelease(call, { handle: hold.handle })));
    if (kind.k === 'lock-release') {
      const index = remaining.findLastIndex((h) => h.lockKey === lockKey(kind.ref) && h.handle === undefined);
      const fallback = index >= 0 ? index : remaining.findLastIndex((h) => h.lockKey === lockKey(kind.ref));
      if (fallback >= 0) remaining = remaining.filter((_, i) => i !== fallback);
    } else if (kind.k === 'file-unlock') {
      remaining = remaining.filter((h) => !(h.ref.decl.def.kind === 'proper-lockfile' && h.ref.decl.name === `lockfile(${kind.keyText})`));
    }
    if (remaining.length !== ctx.held.length) ctx.held = remaining;
  }

  // ---- expressions ---------------------------------------------------------------------------

  visit(ctx: WalkContext, node: ts.Node): void {
    const kind = node.kind;
    if (kind === ts.SyntaxKind.Identifier || kind === ts.SyntaxKind.StringLiteral || kind === ts.SyntaxKind.NumericLiteral || kind === ts.SyntaxKind.ThisKeyword) return;
    if (kind >= ts.SyntaxKind.FirstTypeNode && kind <= ts.SyntaxKind.LastTypeNode) return;
    if (isFunctionWithBody(node)) {
      this.nested(ctx, node, { t: 'detached' });
      return;
    }
    if (ts.isClassLike(node)) {
      this.classLike(ctx, node);
      return;
    }
    if (ts.isCallExpression(node)) {
      this.#call(ctx, node);
      return;
    }
    if (ts.isNewExpression(node)) {
      // new Promise(executor): the executor runs now, under the caller's locks.
      const executor = node.arguments?.[0];
      const isPromise = ts.isIdentifier(node.expression) && node.expression.text === 'Promise';
      this.visit(ctx, node.expression);
      for (const arg of node.arguments ?? []) {
        if (isPromise && arg === executor && isFunctionWithBody(arg)) this.nested(ctx, arg, { t: 'invoked', held: ctx.held, extra: [] });
        else this.visit(ctx, arg);
      }
      return;
    }
    if (ts.isAwaitExpression(node)) {
      this.visit(ctx, node.expression);
      this.awaitPoint(ctx, node);
      return;
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      this.visit(ctx, node.right);
      this.local.assignment(ctx, node);
      return;
    }
    ts.forEachChild(node, ctx.visitChild);
  }

  /** @internal An await (or for await) at `node`: recorded with the locks held there. */
  awaitPoint(ctx: WalkContext, node: ts.Node): void {
    ctx.unit.awaits.push({ site: this.site(ctx, node, 'awaits'), what: 'await', held: ctx.held });
    this.local.awaitSeen(ctx);
  }

  /** Visits a callback argument run by the callee under extra holds. */
  #runCallback(ctx: WalkContext, arg: ts.Expression | undefined, extra: Hold[], at: ts.Node, keyedDone: boolean): void {
    if (arg === undefined) return;
    const value = unwrap(arg);
    if (isFunctionWithBody(value)) {
      const doneParam = keyedDone && value.parameters.length > 0 && ts.isIdentifier(value.parameters[0]?.name as ts.Node) ? (value.parameters[0]?.name as ts.Identifier).text : undefined;
      if (doneParam !== undefined) {
        // async-lock callback style: the lock is held until done() is called.
        const initial = extra.map((h) => ({ ...h, handle: doneParam }));
        const unit = this.nested(ctx, value, { t: 'invoked', held: ctx.held, extra: [] }, initial);
        this.local.callbackRelease(unit, value, doneParam, initial);
      } else {
        this.nested(ctx, value, { t: 'invoked', held: ctx.held, extra });
      }
      return;
    }
    const sym = ts.isIdentifier(value) ? paramOf(value) : undefined;
    if (sym !== undefined) {
      const owner = this.units.unitFor(sym.fn);
      owner.paramRuns.push({ param: sym.index, site: this.site(ctx, at, 'runs its callback argument under the lock'), held: [...ctx.chain, ...ctx.held, ...extra] });
      return;
    }
    this.visit(ctx, value);
    const callee = this.resolver.calleeOf(value);
    if (callee !== undefined) {
      ctx.unit.calls.push({ callee: callee.unit, site: this.site(ctx, at, `runs ${callee.unit.name}`), held: [...ctx.held, ...extra], sameReceiver: callee.recv === 'this' || callee.recv === 'static', argUnits: new Map(), argParams: new Map() });
    }
  }

  #call(ctx: WalkContext, call: ts.CallExpression): void {
    const kind = this.calls.classify(call);
    const callee = unwrap(call.expression);
    switch (kind.k) {
      case 'acquire':
        this.visit(ctx, call.expression);
        for (const arg of call.arguments) this.visit(ctx, arg);
        this.#recordAcquire(ctx, kind.ref, call, kind.mode);
        if (kind.sync && kind.mode === 'block') this.#blocking(ctx, call, `${lockLabel(kind.ref)}.${kind.method}`);
        return;
      case 'helper': {
        this.visit(ctx, call.expression);
        for (const arg of call.arguments) this.visit(ctx, arg);
        const via = [step(locate(this.resolver.fileOf(kind.innerNode), kind.innerNode), `${kind.unit.name} acquires ${lockLabel(kind.inner.ref)}`)];
        this.#recordAcquire(ctx, kind.inner.ref, call, kind.inner.mode, via);
        return;
      }
      case 'run': {
        this.visit(ctx, call.expression);
        call.arguments.forEach((arg, i) => {
          if (i !== kind.fnIndex) this.visit(ctx, arg);
        });
        if (kind.keys !== undefined) this.local.keyedMulti(ctx, call, kind.refs[0] as LockRef, kind.keys);
        const extra: Hold[] = [];
        for (const ref of kind.refs) {
          this.#recordAcquire(ctx, ref, call, kind.mode);
          const hold = this.hold(ctx, ref, call, kind.mode);
          extra.push(hold);
          ctx.held = [...ctx.held, hold];
        }
        ctx.held = ctx.held.slice(0, ctx.held.length - extra.length);
        this.#runCallback(ctx, call.arguments[kind.fnIndex], extra, call, kind.refs[0]?.decl.def.keyed === true);
        return;
      }
      case 'lockAll':
        for (const arg of call.arguments) this.visit(ctx, arg);
        for (const ref of kind.refs) this.#recordAcquire(ctx, ref, call, 'block');
        return;
      case 'config-wrapper': {
        const decl = this.resolver.declare({ id: `wrapper:${kind.name}`, name: `${kind.name} (wrapper)`, at: call, instance: 'static' }, WRAPPER_DEF, false);
        this.visit(ctx, call.expression);
        call.arguments.forEach((arg, i) => {
          if (i !== kind.fnIndex) this.visit(ctx, arg);
        });
        const ref: LockRef = { decl, instance: 'static' };
        this.#recordAcquire(ctx, ref, call, 'block');
        this.#runCallback(ctx, call.arguments[kind.fnIndex], [this.hold(ctx, ref, call, 'block')], call, false);
        return;
      }
      case 'unit':
        this.#unitCall(ctx, call, kind);
        return;
      case 'blocking':
        this.visit(ctx, call.expression);
        for (const arg of call.arguments) this.visit(ctx, arg);
        this.#blocking(ctx, call, kind.name);
        return;
      default:
        break;
    }
    this.#release(ctx, call, kind);
    // acquire().then((release) => ...)
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'then') {
      const acquisition = this.calls.acquisitionOf(callee.expression);
      const handler = call.arguments[0] !== undefined ? unwrap(call.arguments[0]) : undefined;
      if (acquisition !== undefined && acquisition.kind.k === 'acquire' && handler !== undefined && isFunctionWithBody(handler)) {
        this.visit(ctx, callee.expression);
        const first = handler.parameters[0];
        let handle: string | undefined;
        if (first !== undefined && ts.isIdentifier(first.name)) handle = first.name.text;
        else if (first !== undefined && ts.isArrayBindingPattern(first.name)) {
          const second = first.name.elements[1];
          if (second !== undefined && ts.isBindingElement(second) && ts.isIdentifier(second.name)) handle = second.name.text;
        }
        const initial = [this.hold(ctx, acquisition.kind.ref, acquisition.call, acquisition.kind.mode, handle)];
        const unit = this.nested(ctx, handler, { t: 'invoked', held: ctx.held, extra: [] }, initial);
        if (handle !== undefined) this.local.callbackRelease(unit, handler, handle, initial);
        for (const arg of call.arguments.slice(1)) this.visit(ctx, arg);
        return;
      }
    }
    this.visit(ctx, call.expression);
    const method = ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
    const syncArray = isSyncArrayMethod(method);
    for (const arg of call.arguments) {
      const value = unwrap(arg);
      if (syncArray && isFunctionWithBody(value)) this.nested(ctx, value, { t: 'invoked', held: ctx.held, extra: [] });
      else this.visit(ctx, arg);
    }
    if (method === 'sort' && ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) ctx.sorted.add(callee.expression.text);
    this.local.promiseAll(ctx, call);
    this.#userCode(ctx, call, callee);
  }

  #unitCall(ctx: WalkContext, call: ts.CallExpression, kind: Extract<CallKind, { k: 'unit' }>): void {
    this.visit(ctx, call.expression);
    const argUnits = new Map<number, Unit>();
    const argParams = new Map<number, number>();
    const pending: [number, ts.FunctionLikeDeclaration][] = [];
    call.arguments.forEach((arg, i) => {
      const value = unwrap(arg);
      if (isFunctionWithBody(value)) {
        pending.push([i, value]);
        return;
      }
      if (ts.isIdentifier(value)) {
        const sym = paramOf(value);
        if (sym !== undefined && sym.fn === ctx.unit.node) argParams.set(i, sym.index);
      }
      this.visit(ctx, arg);
    });
    const event = { callee: kind.unit, site: this.site(ctx, call, `calls ${kind.unit.name}`), held: ctx.held, sameReceiver: kind.recv === 'this' || kind.recv === 'static', argUnits, argParams };
    ctx.unit.calls.push(event);
    for (const [index, fn] of pending) {
      const unit = this.nested(ctx, fn, { t: 'argument', call: event, index });
      argUnits.set(index, unit);
    }
  }

  #blocking(ctx: WalkContext, call: ts.CallExpression, what: string): void {
    ctx.unit.blocking.push({ site: this.site(ctx, call, `calls ${what}`), what, held: ctx.held });
  }

  /** Listener notification, emitted events, invoked parameters, unbounded JSON. */
  #userCode(ctx: WalkContext, call: ts.CallExpression, callee: ts.Expression): void {
    const json = unboundedJson(call);
    if (json !== null) {
      this.#blocking(ctx, call, json);
      return;
    }
    if (isEmit(call)) {
      ctx.unit.callbacks.push({ site: this.site(ctx, call, `emits ${call.arguments[0]?.getText() ?? 'an event'}`), what: callee.getText(), held: ctx.held });
      return;
    }
    const target = ts.isPropertyAccessExpression(callee) ? unwrap(callee.expression) : callee;
    if (ts.isIdentifier(target) && isListenerElement(target)) {
      ctx.unit.callbacks.push({ site: this.site(ctx, call, `notifies listener ${callee.getText()}`), what: callee.getText(), held: ctx.held });
      return;
    }
    if (ts.isIdentifier(callee)) {
      const sym = paramOf(callee);
      if (sym === undefined) return;
      if (isListenerName(callee.text)) {
        ctx.unit.callbacks.push({ site: this.site(ctx, call, `calls callback ${callee.text}`), what: callee.text, held: ctx.held });
        return;
      }
      const owner = this.units.unitFor(sym.fn);
      const held = owner === ctx.unit ? ctx.held : [...ctx.chain, ...ctx.held];
      owner.paramInvokes.push({ param: sym.index, site: this.site(ctx, call, `calls ${callee.text}`), held });
      return;
    }
    // this.onChange(...) where onChange is a field, not a method
    if (ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword && isListenerName(callee.name.text)) {
      if (this.resolver.calleeOf(callee) === undefined) {
        ctx.unit.callbacks.push({ site: this.site(ctx, call, `calls callback ${callee.getText()}`), what: callee.getText(), held: ctx.held });
      }
    }
  }
}
