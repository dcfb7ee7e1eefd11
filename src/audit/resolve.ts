/*
 * What an expression is, as far as locks go: a lock (and which declaration it is), a container of
 * locks, a lock library's class or function, a project class or instance, a project function. This
 * follows imports and re-exports across the project's files, `require`, namespace objects, class
 * fields (declared, constructor parameters, constructor assignments, inherited) and type
 * annotations, all from syntax and memoised per declaration.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import ts from 'typescript';
import type { FileModel, ImportBinding } from './bindings.js';
import { baseOf, classOf, fieldVal, promiseChainDefOf, type ClassModel } from './classes.js';
import { blockingModule, isBlockingExport, type LockCatalogue, type LockDef, type LockFunction } from './lock-model.js';
import type { Instance, LockDecl, LockRef, Unit } from './model.js';
import { isFunctionWithBody, lookup, propertyNameText, returnedExpressions, unwrap, type Sym } from './scope.js';
import type { AuditConfig, SourceLocation } from './types.js';
import type { UnitRegistry } from './units.js';
import { SOURCE_EXTENSIONS } from './files.js';

export type Val =
  | { readonly k: 'lock'; readonly ref: LockRef; readonly tryOnly?: boolean }
  | { readonly k: 'family'; readonly decl: LockDecl }
  | { readonly k: 'fresh'; readonly def: LockDef; readonly node: ts.Node; readonly family: boolean; readonly rank?: number; readonly tryOnly?: boolean }
  | { readonly k: 'lockClass'; readonly def: LockDef }
  | { readonly k: 'lockFn'; readonly fn: LockFunction }
  | { readonly k: 'pkgNs'; readonly spec: string }
  | { readonly k: 'nodeNs'; readonly mod: string }
  | { readonly k: 'blocking'; readonly name: string }
  | { readonly k: 'fileNs'; readonly file: FileModel }
  | { readonly k: 'class'; readonly cls: ClassModel }
  | { readonly k: 'instance'; readonly cls: ClassModel; readonly recv: Instance }
  | { readonly k: 'fn'; readonly unit: Unit; readonly recv: Instance }
  | { readonly k: 'obj'; readonly node: ts.ObjectLiteralExpression; readonly owner: string; readonly recv: Instance };

/** Who owns a freshly created lock: the declaration that names it. */
export interface Owner {
  readonly id: string;
  readonly name: string;
  readonly at: ts.Node;
  readonly instance: Instance;
}

const IN_PROGRESS = Symbol('in progress');

/** 1-based location of a node's start. */
export function locate(file: string, node: ts.Node): SourceLocation {
  const sf = node.getSourceFile();
  const start = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  const end = sf.getLineAndCharacterOfPosition(node.getEnd());
  return { file, line: start.line + 1, column: start.character + 1, endLine: end.line + 1, endColumn: end.character + 1 };
}

export class Resolver {
  readonly decls = new Map<string, LockDecl>();
  readonly #byAbs = new Map<string, FileModel>();
  readonly #bySf = new Map<ts.SourceFile, FileModel>();
  readonly #symMemo = new Map<ts.Node, Val | null | typeof IN_PROGRESS>();
  readonly #returnsMemo = new Map<Unit, Val | null | typeof IN_PROGRESS>();

  constructor(
    files: readonly FileModel[],
    readonly catalogue: LockCatalogue,
    readonly config: AuditConfig,
    readonly units: UnitRegistry,
  ) {
    for (const file of files) {
      this.#byAbs.set(file.abs, file);
      this.#bySf.set(file.sf, file);
    }
  }

  fileModel(sf: ts.SourceFile): FileModel {
    const model = this.#bySf.get(sf);
    if (model === undefined) throw new Error(`no file model for ${sf.fileName}`);
    return model;
  }

  fileOf(node: ts.Node): string {
    return this.fileModel(node.getSourceFile()).file;
  }

  /** A relative import to one of the audited files. */
  resolveModule(from: FileModel, spec: string): FileModel | undefined {
    if (!spec.startsWith('.')) return undefined;
    const base = resolvePath(dirname(from.abs), spec);
    const direct = this.#byAbs.get(base);
    if (direct !== undefined) return direct;
    const stem = base.replace(/\.(m|c)?jsx?$/, '');
    for (const ext of SOURCE_EXTENSIONS) {
      const hit = this.#byAbs.get(stem + ext) ?? this.#byAbs.get(`${base}/index${ext}`);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  // ---- locks ---------------------------------------------------------------------------------

  /** The declaration that owns a fresh lock, created once per owner. */
  own(val: Val | undefined, owner: Owner): Val | undefined {
    if (val === undefined || val.k !== 'fresh') return val;
    const decl = this.declare(owner, val.def, val.family, val.rank);
    return val.family ? { k: 'family', decl } : { k: 'lock', ref: { decl, instance: owner.instance }, ...(val.tryOnly === true ? { tryOnly: true } : {}) };
  }

  declare(owner: Owner, def: LockDef, family: boolean, sourceRank?: number): LockDecl {
    const existing = this.decls.get(owner.id);
    if (existing !== undefined) return existing;
    const ranks = this.config.ranks ?? {};
    const rank = ranks[owner.id] ?? ranks[owner.name] ?? sourceRank;
    const decl: LockDecl = {
      id: owner.id,
      name: owner.name,
      location: locate(this.fileOf(owner.at), owner.at),
      def,
      family,
      ...(rank !== undefined ? { rank } : {}),
      acquisitions: [],
      heldAcrossAwait: false,
      heavySync: false,
      // Class fields and module bindings are listed even when unused; parameters and locals only once acquired.
      listed: owner.instance === 'this' || owner.instance === 'static',
    };
    this.decls.set(owner.id, decl);
    return decl;
  }

  // ---- symbols -------------------------------------------------------------------------------

  valOfSym(sym: Sym | undefined): Val | undefined {
    if (sym === undefined) return undefined;
    if (sym.k === 'top') return this.valOfTop(this.fileModel(sym.sf), sym.name);
    const memoKey = sym.node;
    const memo = this.#symMemo.get(memoKey);
    if (memo === IN_PROGRESS) return undefined;
    if (memo !== undefined) return memo ?? undefined;
    this.#symMemo.set(memoKey, IN_PROGRESS);
    let val: Val | undefined;
    try {
      val = this.#computeSym(sym);
    } finally {
      this.#symMemo.set(memoKey, val ?? null);
    }
    return val;
  }

  #computeSym(sym: Exclude<Sym, { k: 'top' }>): Val | undefined {
    const file = this.fileOf(sym.node);
    if (sym.k === 'param') {
      const name = ts.isIdentifier(sym.node.name) ? sym.node.name.text : `#${sym.index}`;
      const fnName = this.units.unitFor(sym.fn).name;
      const fresh = sym.node.type !== undefined ? this.typeVal(sym.node.type) : sym.node.initializer !== undefined ? this.valOf(sym.node.initializer) : undefined;
      return this.own(fresh, { id: `${file}#${fnName}(${name})`, name: `${fnName}(${name})`, at: sym.node.name, instance: 'local' });
    }
    const node = sym.node;
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) return { k: 'fn', unit: this.units.unitFor(node), recv: 'static' };
    if (ts.isClassDeclaration(node)) return { k: 'class', cls: classOf(this, node) };
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      const fnName = this.units.unitFor(sym.fn).name;
      return this.#variableVal(node, node.name.text, `${file}#${fnName}.${node.name.text}`, `${fnName}.${node.name.text}`, 'local');
    }
    return undefined;
  }

  #variableVal(node: ts.VariableDeclaration, name: string, id: string, display: string, instance: Instance): Val | undefined {
    const init = node.initializer !== undefined ? unwrap(node.initializer) : undefined;
    if (init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) return { k: 'fn', unit: this.units.unitFor(init), recv: 'static' };
    if (init !== undefined && ts.isObjectLiteralExpression(init)) return { k: 'obj', node: init, owner: id, recv: instance };
    const typed = node.type !== undefined ? this.typeVal(node.type) : undefined;
    const val = typed ?? (init !== undefined ? this.valOf(init) : undefined);
    return this.own(val, { id, name: display, at: node.name, instance });
  }

  valOfTop(file: FileModel, name: string): Val | undefined {
    const binding = file.imports.get(name);
    if (binding !== undefined) return this.importVal(file, binding, new Set());
    const node = file.topLevel.get(name);
    if (node === undefined) return undefined;
    const memo = this.#symMemo.get(node);
    if (memo === IN_PROGRESS) return undefined;
    if (memo !== undefined) return memo ?? undefined;
    this.#symMemo.set(node, IN_PROGRESS);
    let val: Val | undefined;
    try {
      if (ts.isFunctionDeclaration(node)) val = { k: 'fn', unit: this.units.unitFor(node), recv: 'static' };
      else if (ts.isClassDeclaration(node)) val = { k: 'class', cls: classOf(this, node) };
      else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) val = this.#variableVal(node, name, `${file.file}#${name}`, name, 'static');
    } finally {
      this.#symMemo.set(node, val ?? null);
    }
    return val;
  }

  importVal(from: FileModel, binding: ImportBinding, seen: Set<string>): Val | undefined {
    const { spec, name } = binding;
    const target = this.resolveModule(from, spec);
    if (target !== undefined) {
      if (name === '*') return { k: 'fileNs', file: target };
      if (name === 'module.exports') return target.exports.has('module.exports') ? this.exportVal(target, 'module.exports', seen) : { k: 'fileNs', file: target };
      // `import repo from './repo.js'` of a CommonJS module: the default is module.exports.
      if (name === 'default' && !target.exports.has('default')) return { k: 'fileNs', file: target };
      return this.exportVal(target, name, seen);
    }
    if (spec.startsWith('.')) return undefined;
    const known = this.catalogue.lookup(spec, name);
    if (known !== undefined) return known.t === 'class' ? { k: 'lockClass', def: known.def } : { k: 'lockFn', fn: known.fn };
    const mod = blockingModule(spec);
    if (mod !== null && (name === '*' || name === 'default' || name === 'module.exports')) return { k: 'nodeNs', mod };
    if (isBlockingExport(spec, name)) return { k: 'blocking', name };
    if ((name === '*' || name === 'default' || name === 'module.exports') && this.catalogue.knows(spec)) return { k: 'pkgNs', spec };
    return undefined;
  }

  exportVal(file: FileModel, name: string, seen: Set<string>): Val | undefined {
    const key = `${file.abs}:${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const fileTypes = this.catalogue.fileTypes.get(file.file) ?? this.catalogue.fileTypes.get(file.file.replace(/\.[^./]+$/, ''));
    const declared = fileTypes?.get(name);
    if (declared !== undefined) return { k: 'lockClass', def: declared };
    const entry = file.exports.get(name);
    if (entry !== undefined) {
      if (entry.t === 'local') return this.valOfTop(file, entry.local);
      if (entry.t === 'reexport') return this.importVal(file, { spec: entry.spec, name: entry.name }, seen);
      const node = entry.node;
      if (isFunctionWithBody(node)) return { k: 'fn', unit: this.units.unitFor(node), recv: 'static' };
      if (ts.isClassDeclaration(node)) return { k: 'class', cls: classOf(this, node) };
      if (ts.isExpression(node)) return this.own(this.valOf(node), { id: `${file.file}#${name}`, name: `${file.file}:${name}`, at: node, instance: 'static' });
      return undefined;
    }
    for (const spec of file.starExports) {
      const val = this.importVal(file, { spec, name }, seen);
      if (val !== undefined) return val;
    }
    return undefined;
  }

  // ---- types ---------------------------------------------------------------------------------

  /** What a type annotation says: a lock type, a container of locks, a project class. */
  typeVal(type: ts.TypeNode): Val | undefined {
    if (ts.isUnionTypeNode(type)) {
      for (const member of type.types) {
        const val = this.typeVal(member);
        if (val !== undefined) return val;
      }
      return undefined;
    }
    if (ts.isParenthesizedTypeNode(type)) return this.typeVal(type.type);
    if (ts.isArrayTypeNode(type)) return this.#familyOf(this.typeVal(type.elementType), type);
    if (!ts.isTypeReferenceNode(type)) return undefined;
    const typeName = type.typeName;
    const simple = ts.isIdentifier(typeName) ? typeName.text : typeName.right.text;
    const args = type.typeArguments ?? [];
    if (['Map', 'ReadonlyMap', 'WeakMap', 'Record'].includes(simple) && args.length === 2 && args[1] !== undefined) return this.#familyOf(this.typeVal(args[1]), type);
    if (['Array', 'ReadonlyArray', 'Set', 'ReadonlySet'].includes(simple) && args[0] !== undefined) return this.#familyOf(this.typeVal(args[0]), type);
    const val = ts.isIdentifier(typeName) ? this.valOfSym(lookup(typeName)) : this.memberVal(this.valOf(typeName.left as unknown as ts.Expression), typeName.right.text, typeName);
    if (val === undefined) return undefined;
    if (val.k === 'lockClass') return { k: 'fresh', def: val.def, node: type, family: false };
    if (val.k === 'class') {
      const chain = promiseChainDefOf(this, val.cls);
      if (chain !== undefined) return { k: 'fresh', def: chain, node: type, family: false };
      return { k: 'instance', cls: val.cls, recv: 'other' };
    }
    return undefined;
  }

  #familyOf(element: Val | undefined, node: ts.Node): Val | undefined {
    if (element?.k === 'fresh') return { k: 'fresh', def: element.def, node, family: true };
    return undefined;
  }

  // ---- expressions ---------------------------------------------------------------------------

  /** What `expr` evaluates to, lock-wise. */
  valOf(input: ts.Expression | ts.EntityName): Val | undefined {
    const expr = ts.isQualifiedName(input) ? input : unwrap(input);
    if (ts.isQualifiedName(expr)) return this.memberVal(this.valOf(expr.left), expr.right.text, expr);
    if (ts.isIdentifier(expr)) return this.valOfSym(lookup(expr));
    if (expr.kind === ts.SyntaxKind.ThisKeyword) return this.thisVal(expr);
    if (expr.kind === ts.SyntaxKind.SuperKeyword) {
      const self = this.thisVal(expr);
      const base = self?.k === 'instance' || self?.k === 'class' ? baseOf(this, self.cls) : undefined;
      if (base === undefined) return undefined;
      return self?.k === 'class' ? { k: 'class', cls: base } : { k: 'instance', cls: base, recv: 'this' };
    }
    if (ts.isPropertyAccessExpression(expr)) return this.memberVal(this.valOf(expr.expression), expr.name.text, expr);
    if (ts.isElementAccessExpression(expr)) {
      const base = this.valOf(expr.expression);
      if (base?.k === 'family') return { k: 'lock', ref: { decl: base.decl, instance: 'other' } };
      const arg = expr.argumentExpression;
      if (ts.isStringLiteralLike(arg)) return this.memberVal(base, arg.text, expr);
      return undefined;
    }
    if (ts.isNewExpression(expr)) return this.#newVal(expr);
    if (ts.isCallExpression(expr)) return this.#callVal(expr);
    if (ts.isConditionalExpression(expr)) return this.valOf(expr.whenTrue) ?? this.valOf(expr.whenFalse);
    if (ts.isBinaryExpression(expr) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(expr.operatorToken.kind)) return this.valOf(expr.left) ?? this.valOf(expr.right);
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.QuestionQuestionEqualsToken) return this.valOf(expr.left) ?? this.valOf(expr.right);
    return undefined;
  }

  thisVal(node: ts.Node): Val | undefined {
    for (let current = node.parent; current !== undefined; current = current.parent) {
      if (ts.isArrowFunction(current)) continue;
      if (ts.isClassLike(current)) return { k: 'instance', cls: classOf(this, current), recv: 'this' };
      if (isFunctionWithBody(current) || ts.isPropertyDeclaration(current) || ts.isClassStaticBlockDeclaration(current)) {
        const holder = current.parent;
        if (holder !== undefined && ts.isClassLike(holder)) {
          const isStatic = ts.canHaveModifiers(current) && (ts.getModifiers(current)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) ?? false);
          return isStatic || ts.isClassStaticBlockDeclaration(current) ? { k: 'class', cls: classOf(this, holder) } : { k: 'instance', cls: classOf(this, holder), recv: 'this' };
        }
        if (holder !== undefined && ts.isObjectLiteralExpression(holder)) return this.#objectOf(holder);
        if (holder !== undefined && ts.isPropertyAssignment(holder) && holder.parent !== undefined && ts.isObjectLiteralExpression(holder.parent)) return this.#objectOf(holder.parent);
        return undefined;
      }
      if (ts.isSourceFile(current)) return undefined;
    }
    return undefined;
  }

  #objectOf(literal: ts.ObjectLiteralExpression): Val | undefined {
    const decl = literal.parent;
    if (decl !== undefined && ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)) {
      const val = this.valOf(decl.name);
      if (val?.k === 'obj') return { ...val, recv: 'this' };
    }
    return { k: 'obj', node: literal, owner: `${this.fileOf(literal)}#<object>`, recv: 'this' };
  }

  /** `base.name` */
  memberVal(base: Val | undefined, name: string, at: ts.Node): Val | undefined {
    if (base === undefined) return undefined;
    switch (base.k) {
      case 'instance':
        return fieldVal(this, base.cls, name, base.recv);
      case 'class':
        return fieldVal(this, base.cls, name, 'static');
      case 'fileNs':
        return this.exportVal(base.file, name, new Set());
      case 'pkgNs': {
        const known = this.catalogue.lookup(base.spec, name);
        if (known === undefined) return undefined;
        return known.t === 'class' ? { k: 'lockClass', def: known.def } : { k: 'lockFn', fn: known.fn };
      }
      case 'nodeNs':
        return name.endsWith('Sync') ? { k: 'blocking', name: `${base.mod}.${name}` } : undefined;
      case 'obj':
        return this.#objectMember(base, name);
      case 'lock':
        // deadbolt RwLock's `reader`/`writer` specs are the lock itself, for lockAll.
        return name === 'reader' || name === 'writer' ? base : undefined;
      default:
        void at;
        return undefined;
    }
  }

  #objectMember(base: Extract<Val, { k: 'obj' }>, name: string): Val | undefined {
    for (const prop of base.node.properties) {
      if (propertyNameText(prop.name) !== name) continue;
      if (ts.isMethodDeclaration(prop)) return { k: 'fn', unit: this.units.unitFor(prop), recv: base.recv };
      if (ts.isPropertyAssignment(prop)) {
        const init = unwrap(prop.initializer);
        if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return { k: 'fn', unit: this.units.unitFor(init), recv: base.recv };
        const owner = base.owner.includes('#') ? `${base.owner}.${name}` : `${base.owner}#${name}`;
        const display = owner.slice(owner.indexOf('#') + 1);
        return this.own(this.valOf(init), { id: owner, name: display, at: prop.name, instance: base.recv === 'this' ? 'static' : base.recv });
      }
      if (ts.isShorthandPropertyAssignment(prop)) return this.valOf(prop.name);
    }
    return undefined;
  }

  #newVal(expr: ts.NewExpression): Val | undefined {
    const callee = this.valOf(expr.expression);
    if (callee === undefined) {
      // new Map<string, Mutex>()
      const args = expr.typeArguments ?? [];
      const name = ts.isIdentifier(expr.expression) ? expr.expression.text : '';
      const element = name === 'Map' || name === 'WeakMap' ? args[1] : name === 'Set' || name === 'Array' ? args[0] : undefined;
      return element !== undefined ? this.#familyOf(this.typeVal(element), expr) : undefined;
    }
    if (callee.k === 'lockClass') {
      const rank = callee.def.kind === 'deadbolt' ? this.#rankOption(expr) : undefined;
      return { k: 'fresh', def: callee.def, node: expr, family: false, ...(rank !== undefined ? { rank } : {}) };
    }
    if (callee.k === 'class') {
      const chain = promiseChainDefOf(this, callee.cls);
      if (chain !== undefined) return { k: 'fresh', def: chain, node: expr, family: false };
      return { k: 'instance', cls: callee.cls, recv: 'other' };
    }
    return undefined;
  }

  /** deadbolt's `{ rank: 10 }` option, literal or a constant. */
  #rankOption(expr: ts.NewExpression): number | undefined {
    for (const arg of expr.arguments ?? []) {
      if (!ts.isObjectLiteralExpression(arg)) continue;
      for (const prop of arg.properties) {
        if (!ts.isPropertyAssignment(prop) || propertyNameText(prop.name) !== 'rank') continue;
        return this.#numericValue(prop.initializer);
      }
    }
    return undefined;
  }

  #numericValue(expr: ts.Expression): number | undefined {
    const value = unwrap(expr);
    if (ts.isNumericLiteral(value)) return Number(value.text);
    if (ts.isIdentifier(value)) {
      const sym = lookup(value);
      const node = sym?.k === 'top' ? this.fileModel(sym.sf).topLevel.get(sym.name) : sym?.k === 'local' ? sym.node : undefined;
      if (node !== undefined && ts.isVariableDeclaration(node) && node.initializer !== undefined && ts.isNumericLiteral(unwrap(node.initializer))) return Number((unwrap(node.initializer) as ts.NumericLiteral).text);
    }
    return undefined;
  }

  #callVal(expr: ts.CallExpression): Val | undefined {
    const calleeExpr = unwrap(expr.expression);
    // fn.bind(this)
    if (ts.isPropertyAccessExpression(calleeExpr) && calleeExpr.name.text === 'bind') {
      const bound = this.valOf(calleeExpr.expression);
      if (bound?.k === 'fn') return bound;
    }
    // locks.get(key)
    if (ts.isPropertyAccessExpression(calleeExpr) && calleeExpr.name.text === 'get') {
      const base = this.valOf(calleeExpr.expression);
      if (base?.k === 'family') return { k: 'lock', ref: { decl: base.decl, instance: 'other' } };
    }
    const spec = ts.isIdentifier(calleeExpr) && calleeExpr.text === 'require' ? expr.arguments[0] : undefined;
    if (spec !== undefined && ts.isStringLiteralLike(spec)) return this.importVal(this.fileModel(expr.getSourceFile()), { spec: spec.text, name: 'module.exports' }, new Set());
    const callee = this.valOf(calleeExpr);
    if (callee === undefined) return undefined;
    if (callee.k === 'lockFn' && (callee.fn === 'withTimeout' || callee.fn === 'tryAcquire')) {
      const inner = expr.arguments[0] !== undefined ? this.valOf(expr.arguments[0]) : undefined;
      if (callee.fn === 'withTimeout' || inner === undefined) return inner;
      return inner.k === 'lock' || inner.k === 'fresh' ? { ...inner, tryOnly: true } : inner;
    }
    if (callee.k === 'fn') return this.returnedLock(callee.unit);
    return undefined;
  }

  /** The lock a function returns (a getter, or a keyed mutex's `lockFor(key)`). */
  returnedLock(unit: Unit): Val | undefined {
    const memo = this.#returnsMemo.get(unit);
    if (memo === IN_PROGRESS) return undefined;
    if (memo !== undefined) return memo ?? undefined;
    this.#returnsMemo.set(unit, IN_PROGRESS);
    let result: Val | undefined;
    try {
      result = this.#computeReturnedLock(unit);
    } finally {
      this.#returnsMemo.set(unit, result ?? null);
    }
    return result;
  }

  #computeReturnedLock(unit: Unit): Val | undefined {
    const node = unit.node;
    if (!isFunctionWithBody(node) || node.body === undefined) return undefined;
    const owner: Owner = { id: `${unit.file}#${unit.name}()`, name: `${unit.name}()`, at: node.name ?? node, instance: 'other' };
    const asFamily = (val: Val | undefined): Val | undefined => {
      if (val === undefined) return undefined;
      if (val.k === 'fresh') {
        const decl = this.declare(owner, val.def, true, val.rank);
        return { k: 'lock', ref: { decl, instance: 'other' } };
      }
      if (val.k === 'lock') return val;
      return undefined;
    };
    for (const expr of returnedExpressions(node)) {
      const val = asFamily(this.valOf(expr));
      if (val !== undefined) return val;
    }
    if (node.type !== undefined) return asFamily(this.typeVal(node.type));
    return undefined;
  }

  /** A method or function unit behind `this.x`, `obj.x`, `fn`; for calls. */
  calleeOf(expr: ts.Expression): { unit: Unit; recv: Instance } | undefined {
    const val = this.valOf(expr);
    if (val?.k === 'fn') return { unit: val.unit, recv: val.recv };
    return undefined;
  }
}
