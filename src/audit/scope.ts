/*
 * Lexical name lookup without a type checker: from an identifier, walk up through the enclosing
 * functions (parameters, then their locals) to the file's top-level declarations and imports.
 * Block scoping is flattened to function scope; shadowing inside one function is rare in lock code
 * and at worst loses a lock, never invents one.
 */
import ts from 'typescript';
import { bindingNames } from './bindings.js';

/** A declaration an identifier refers to. */
export type Sym =
  | { readonly k: 'param'; readonly node: ts.ParameterDeclaration; readonly fn: ts.SignatureDeclaration; readonly index: number }
  | { readonly k: 'local'; readonly node: ts.Node; readonly fn: ts.Node }
  | { readonly k: 'top'; readonly name: string; readonly sf: ts.SourceFile };

/** A function-like node that has a body (not an overload or an abstract signature). */
export function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node)) &&
    node.body !== undefined
  );
}

const localsMemo = new WeakMap<ts.Node, Map<string, ts.Node>>();

/** Names declared directly in a function body (variables, nested functions and classes), not in nested functions. */
export function localsOf(fn: ts.Node): Map<string, ts.Node> {
  let locals = localsMemo.get(fn);
  if (locals !== undefined) return locals;
  locals = new Map();
  const found = locals;
  const body = isFunctionWithBody(fn) ? fn.body : undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node)) {
      for (const name of bindingNames(node.name)) if (!found.has(name)) found.set(name, node);
    } else if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name !== undefined) {
      if (!found.has(node.name.text)) found.set(node.name.text, node);
      return;
    } else if (ts.isCatchClause(node) && node.variableDeclaration !== undefined) {
      for (const name of bindingNames(node.variableDeclaration.name)) if (!found.has(name)) found.set(name, node.variableDeclaration);
    }
    if (isFunctionWithBody(node) || ts.isClassLike(node)) return;
    ts.forEachChild(node, visit);
  };
  if (body !== undefined) ts.forEachChild(body, visit);
  localsMemo.set(fn, found);
  return found;
}

/**
 * The declaration `id` refers to, searching enclosing functions and then the file.
 *
 * @example
 * const sym = lookup(identifierNode); // { k: 'param', index: 0, ... }
 */
export function lookup(id: ts.Identifier): Sym | undefined {
  const name = id.text;
  for (let node: ts.Node | undefined = id.parent; node !== undefined; node = node.parent) {
    if (isFunctionWithBody(node)) {
      for (let index = 0; index < node.parameters.length; index++) {
        const param = node.parameters[index];
        if (param !== undefined && bindingNames(param.name).includes(name)) return { k: 'param', node: param, fn: node, index };
      }
      const local = localsOf(node).get(name);
      if (local !== undefined) return { k: 'local', node: local, fn: node };
      if ((ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node)) && node.name?.text === name) return { k: 'local', node, fn: node };
    } else if (ts.isSourceFile(node)) {
      return { k: 'top', name, sf: node };
    }
  }
  return undefined;
}

/** The nearest enclosing function with a body, or the source file for module code. */
export function enclosingFunction(node: ts.Node): ts.Node {
  for (let current = node.parent; current !== undefined; current = current.parent) {
    if (isFunctionWithBody(current) || ts.isSourceFile(current)) return current;
  }
  return node.getSourceFile();
}

/** Strips parentheses, `as`, `!`, `satisfies` and type assertions. */
export function unwrap(expr: ts.Expression): ts.Expression {
  let current = expr;
  for (;;) {
    if (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isNonNullExpression(current) || ts.isSatisfiesExpression(current) || ts.isTypeAssertionExpression(current)) {
      current = current.expression;
    } else {
      return current;
    }
  }
}

/** A stable name for a property name node, or undefined for computed names. */
export function propertyNameText(name: ts.PropertyName | ts.MemberName | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}
