/*
 * Classes as the audit sees them: fields and their lock values (declared, constructor parameter
 * properties, constructor assignments, inherited), methods, and hand-rolled promise-chain mutexes
 * (a class whose method chains `this.last = this.last.then(...)` is a lock type of its own).
 */
import ts from 'typescript';
import { promiseChainDef, type LockDef } from './lock-model.js';
import { throughReceiver, type Instance } from './model.js';
import type { Resolver, Val } from './resolve.js';
import { propertyNameText, unwrap } from './scope.js';

export interface ClassModel {
  readonly name: string;
  readonly file: string;
  readonly node: ts.ClassLikeDeclaration;
}

const classes = new WeakMap<ts.ClassLikeDeclaration, ClassModel>();
const fieldMemo = new WeakMap<ClassModel, Map<string, Val | null>>();
const chainMemo = new WeakMap<ClassModel, LockDef | null>();
const baseMemo = new WeakMap<ClassModel, ClassModel | null>();

export function classOf(resolver: Resolver, node: ts.ClassLikeDeclaration): ClassModel {
  let model = classes.get(node);
  if (model === undefined) {
    const name = node.name?.text ?? (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name) ? node.parent.name.text : '<class>');
    model = { name, file: resolver.fileOf(node), node };
    classes.set(node, model);
  }
  return model;
}

/** The project class `cls` extends, if the audit can see it. */
export function baseOf(resolver: Resolver, cls: ClassModel): ClassModel | undefined {
  const memo = baseMemo.get(cls);
  if (memo !== undefined) return memo ?? undefined;
  baseMemo.set(cls, null);
  const heritage = cls.node.heritageClauses?.find((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
  const val = heritage !== undefined ? resolver.valOf(heritage.expression) : undefined;
  const base = val?.k === 'class' ? val.cls : undefined;
  baseMemo.set(cls, base ?? null);
  return base;
}

function isStatic(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) ?? false);
}

function isParameterProperty(param: ts.ParameterDeclaration): boolean {
  return (
    ts.getModifiers(param)?.some((m) =>
      [ts.SyntaxKind.PublicKeyword, ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.ReadonlyKeyword].includes(m.kind),
    ) ?? false
  );
}

function isThisMember(expr: ts.Expression, name: string): boolean {
  const target = unwrap(expr);
  return (ts.isPropertyAccessExpression(target) && target.expression.kind === ts.SyntaxKind.ThisKeyword && target.name.text === name) || false;
}

/** The value of field `name` of `cls` as its own receiver (`this`) sees it. */
function ownFieldVal(resolver: Resolver, cls: ClassModel, name: string): Val | undefined {
  const owner = { id: `${cls.file}#${cls.name}.${name}`, name: `${cls.name}.${name}` };
  for (const member of cls.node.members) {
    if (ts.isPropertyDeclaration(member) && propertyNameText(member.name) === name) {
      const instance: Instance = isStatic(member) ? 'static' : 'this';
      const init = member.initializer !== undefined ? unwrap(member.initializer) : undefined;
      if (init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) return { k: 'fn', unit: resolver.units.unitFor(init), recv: 'this' };
      if (init !== undefined && ts.isObjectLiteralExpression(init)) return { k: 'obj', node: init, owner: owner.id, recv: instance };
      const val = (member.type !== undefined ? resolver.typeVal(member.type) : undefined) ?? (init !== undefined ? resolver.valOf(init) : undefined);
      if (val !== undefined || init !== undefined) return resolver.own(val, { ...owner, at: member.name, instance });
    }
    if ((ts.isMethodDeclaration(member) || ts.isGetAccessorDeclaration(member)) && propertyNameText(member.name) === name && member.body !== undefined) {
      if (ts.isGetAccessorDeclaration(member)) return resolver.returnedLock(resolver.units.unitFor(member));
      return { k: 'fn', unit: resolver.units.unitFor(member), recv: isStatic(member) ? 'static' : 'this' };
    }
  }
  const ctor = cls.node.members.find((m): m is ts.ConstructorDeclaration => ts.isConstructorDeclaration(m) && m.body !== undefined);
  if (ctor === undefined) return undefined;
  for (const param of ctor.parameters) {
    if (isParameterProperty(param) && ts.isIdentifier(param.name) && param.name.text === name && param.type !== undefined) {
      return resolver.own(resolver.typeVal(param.type), { ...owner, at: param.name, instance: 'this' });
    }
  }
  for (const statement of ctor.body?.statements ?? []) {
    if (!ts.isExpressionStatement(statement)) continue;
    const expr = statement.expression;
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.EqualsToken && isThisMember(expr.left, name)) {
      return resolver.own(resolver.valOf(expr.right), { ...owner, at: expr.left, instance: 'this' });
    }
  }
  return undefined;
}

/**
 * Field `name` of `cls` read through a receiver: `this` keeps `this`-locks the caller's own; any
 * other receiver makes them another instance's (same lock class, maybe not the same lock).
 */
export function fieldVal(resolver: Resolver, cls: ClassModel, name: string, recv: Instance): Val | undefined {
  let memo = fieldMemo.get(cls);
  if (memo === undefined) {
    memo = new Map();
    fieldMemo.set(cls, memo);
  }
  let val: Val | undefined;
  if (memo.has(name)) val = memo.get(name) ?? undefined;
  else {
    memo.set(name, null);
    val = ownFieldVal(resolver, cls, name);
    if (val === undefined) {
      const base = baseOf(resolver, cls);
      if (base !== undefined) val = fieldVal(resolver, base, name, 'this');
    }
    memo.set(name, val ?? null);
  }
  if (val === undefined || recv === 'this') return val;
  if (val.k === 'lock') return { ...val, ref: throughReceiver(val.ref, recv === 'static') };
  if ((val.k === 'fn' || val.k === 'instance' || val.k === 'obj') && val.recv === 'this') return { ...val, recv };
  return val;
}

function mentionsPromise(member: ts.PropertyDeclaration): boolean {
  const text = (member.type?.getText() ?? '') + ' ' + (member.initializer?.getText() ?? '');
  return /\bPromise\b/.test(text);
}

/**
 * A promise-chain mutex: a Promise-typed field that a method both reads and reassigns, in a method
 * that chains with `.then` or builds a `new Promise`. Methods with a function parameter run it
 * under the chain; the others return a release function.
 */
export function promiseChainDefOf(resolver: Resolver, cls: ClassModel): LockDef | undefined {
  const memo = chainMemo.get(cls);
  if (memo !== undefined) return memo ?? undefined;
  chainMemo.set(cls, null);
  const chainFields = new Set<string>();
  for (const member of cls.node.members) {
    if (ts.isPropertyDeclaration(member) && !isStatic(member) && mentionsPromise(member)) {
      const name = propertyNameText(member.name);
      if (name !== undefined) chainFields.add(name);
    }
  }
  if (chainFields.size === 0) return undefined;
  const acquire: string[] = [];
  const run = new Map<string, number>();
  for (const member of cls.node.members) {
    if (!ts.isMethodDeclaration(member) || member.body === undefined) continue;
    const name = propertyNameText(member.name);
    if (name === undefined) continue;
    let assigns = false;
    let reads = false;
    let chains = false;
    const visit = (node: ts.Node): void => {
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && [...chainFields].some((f) => isThisMember(node.left, f))) {
        assigns = true;
        visit(node.right);
        return;
      }
      if (ts.isPropertyAccessExpression(node) && node.expression.kind === ts.SyntaxKind.ThisKeyword && chainFields.has(node.name.text)) reads = true;
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'then') chains = true;
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Promise') chains = true;
      ts.forEachChild(node, visit);
    };
    visit(member.body);
    if (!(assigns && reads && chains)) continue;
    const fnParam = member.parameters.findIndex((p) => p.type !== undefined ? ts.isFunctionTypeNode(p.type) : /^(fn|cb|callback|task|work|job|action)$/i.test(p.name.getText()));
    if (fnParam >= 0) run.set(name, fnParam);
    else acquire.push(name);
  }
  if (acquire.length === 0 && run.size === 0) return undefined;
  const def = promiseChainDef(cls.name, acquire, run);
  chainMemo.set(cls, def);
  return def;
}

