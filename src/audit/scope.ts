/*
 * Lexical name lookup without a type checker: from an identifier, walk up through the enclosing
 * blocks (their let/const/class/function declarations, for-heads and catch clauses), then the
 * enclosing functions (parameters, then their locals) to the file's top-level declarations and
 * imports. `var` and anything not found in a block falls back to the function's first declaration.
 */
import ts from 'typescript';
import { bindingNames } from './bindings.js';

/** A declaration an identifier refers to. */
export type Sym =
  | { readonly k: 'param'; readonly node: ts.ParameterDeclaration; readonly fn: ts.SignatureDeclaration; readonly index: number }
  | { readonly k: 'local'; readonly node: ts.Node; readonly fn: ts.Node }
  | { readonly k: 'top'; readonly name: string; readonly sf: ts.SourceFile };

const FUNCTION_KINDS = new Set([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.FunctionExpression,
  ts.SyntaxKind.ArrowFunction,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.Constructor,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
]);

/** A function-like node that has a body (not an overload or an abstract signature). Hot: a kind lookup. */
export function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return FUNCTION_KINDS.has(node.kind) && (node as ts.FunctionLikeDeclaration).body !== undefined;
}

const localsMemo = new WeakMap<ts.Node, Map<string, ts.Node>>();

/**
 * Names declared directly in a function body (variables, nested functions and classes), not in
 * nested functions. Declarations only live in statements, so expressions are not entered: this
 * keeps the scan a small fraction of the tree.
 */
export function localsOf(fn: ts.Node): Map<string, ts.Node> {
  const memo = localsMemo.get(fn);
  if (memo !== undefined) return memo;
  const found = new Map<string, ts.Node>();
  const add = (name: ts.BindingName, node: ts.Node): void => {
    for (const each of bindingNames(name)) if (!found.has(each)) found.set(each, node);
  };
  const declarations = (list: ts.VariableDeclarationList): void => {
    for (const decl of list.declarations) add(decl.name, decl);
  };
  const visit = (node: ts.Statement): void => {
    switch (node.kind) {
      case ts.SyntaxKind.VariableStatement:
        declarations((node as ts.VariableStatement).declarationList);
        return;
      case ts.SyntaxKind.FunctionDeclaration:
      case ts.SyntaxKind.ClassDeclaration: {
        const name = (node as ts.FunctionDeclaration | ts.ClassDeclaration).name;
        if (name !== undefined && !found.has(name.text)) found.set(name.text, node);
        return;
      }
      case ts.SyntaxKind.Block:
        (node as ts.Block).statements.forEach(visit);
        return;
      case ts.SyntaxKind.IfStatement: {
        const statement = node as ts.IfStatement;
        visit(statement.thenStatement);
        if (statement.elseStatement !== undefined) visit(statement.elseStatement);
        return;
      }
      case ts.SyntaxKind.ForStatement:
      case ts.SyntaxKind.ForOfStatement:
      case ts.SyntaxKind.ForInStatement: {
        const statement = node as ts.ForStatement | ts.ForOfStatement | ts.ForInStatement;
        if (statement.initializer !== undefined && ts.isVariableDeclarationList(statement.initializer)) declarations(statement.initializer);
        visit(statement.statement);
        return;
      }
      case ts.SyntaxKind.WhileStatement:
      case ts.SyntaxKind.DoStatement:
      case ts.SyntaxKind.LabeledStatement:
        visit((node as ts.WhileStatement | ts.DoStatement | ts.LabeledStatement).statement);
        return;
      case ts.SyntaxKind.TryStatement: {
        const statement = node as ts.TryStatement;
        visit(statement.tryBlock);
        if (statement.catchClause !== undefined) {
          if (statement.catchClause.variableDeclaration !== undefined) add(statement.catchClause.variableDeclaration.name, statement.catchClause.variableDeclaration);
          visit(statement.catchClause.block);
        }
        if (statement.finallyBlock !== undefined) visit(statement.finallyBlock);
        return;
      }
      case ts.SyntaxKind.SwitchStatement:
        for (const clause of (node as ts.SwitchStatement).caseBlock.clauses) clause.statements.forEach(visit);
        return;
      default:
        return;
    }
  };
  const body = isFunctionWithBody(fn) ? fn.body : undefined;
  if (body !== undefined && ts.isBlock(body)) body.statements.forEach(visit);
  localsMemo.set(fn, found);
  return found;
}

const blockMemo = new WeakMap<ts.Node, Map<string, ts.Node>>();

function isBlockScoped(list: ts.VariableDeclarationList): boolean {
  return (list.flags & ts.NodeFlags.BlockScoped) !== 0;
}

/**
 * Names a block-like scope declares itself (not in nested blocks): let/const, classes and
 * functions among a block's or a switch's statements, a for-head's let/const, a catch variable.
 * Empty for other nodes.
 */
export function blockLocalsOf(scope: ts.Node): ReadonlyMap<string, ts.Node> {
  const memo = blockMemo.get(scope);
  if (memo !== undefined) return memo;
  const found = new Map<string, ts.Node>();
  const add = (name: ts.BindingName, node: ts.Node): void => {
    for (const each of bindingNames(name)) if (!found.has(each)) found.set(each, node);
  };
  const statements = (list: readonly ts.Statement[]): void => {
    for (const statement of list) {
      if (ts.isVariableStatement(statement) && isBlockScoped(statement.declarationList)) for (const decl of statement.declarationList.declarations) add(decl.name, decl);
      else if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement)) && statement.name !== undefined && !found.has(statement.name.text)) found.set(statement.name.text, statement);
    }
  };
  if (ts.isBlock(scope)) statements(scope.statements);
  else if (ts.isCaseBlock(scope)) for (const clause of scope.clauses) statements(clause.statements);
  else if (ts.isForStatement(scope) || ts.isForOfStatement(scope) || ts.isForInStatement(scope)) {
    const init = scope.initializer;
    if (init !== undefined && ts.isVariableDeclarationList(init) && isBlockScoped(init)) for (const decl of init.declarations) add(decl.name, decl);
  } else if (ts.isCatchClause(scope) && scope.variableDeclaration !== undefined) add(scope.variableDeclaration.name, scope.variableDeclaration);
  blockMemo.set(scope, found);
  return found;
}

const BLOCK_SCOPES = new Set([ts.SyntaxKind.Block, ts.SyntaxKind.CaseBlock, ts.SyntaxKind.ForStatement, ts.SyntaxKind.ForOfStatement, ts.SyntaxKind.ForInStatement, ts.SyntaxKind.CatchClause]);

/**
 * The parameter `id` names, looking only at enclosing functions' parameters (no locals): the
 * cheap question the walker asks of every plain call.
 */
export function paramOf(id: ts.Identifier): Extract<Sym, { k: 'param' }> | undefined {
  const name = id.text;
  for (let node: ts.Node | undefined = id.parent; node !== undefined; node = node.parent) {
    if (isFunctionWithBody(node)) {
      for (let index = 0; index < node.parameters.length; index++) {
        const param = node.parameters[index];
        if (param === undefined) continue;
        if (ts.isIdentifier(param.name) ? param.name.text === name : bindingNames(param.name).includes(name)) return { k: 'param', node: param, fn: node, index };
      }
    } else if (ts.isSourceFile(node)) {
      return undefined;
    }
  }
  return undefined;
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
    if (BLOCK_SCOPES.has(node.kind)) {
      const local = blockLocalsOf(node).get(name);
      if (local !== undefined) return { k: 'local', node: local, fn: enclosingFunction(node) };
    } else if (isFunctionWithBody(node)) {
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

/** The expressions a function returns: an arrow's expression body, or each `return x` not inside a nested function or class. */
export function returnedExpressions(fn: ts.FunctionLikeDeclaration): ts.Expression[] {
  const body = fn.body;
  if (body === undefined) return [];
  if (!ts.isBlock(body)) return [body];
  const returned: ts.Expression[] = [];
  const visit = (child: ts.Node): void => {
    if (ts.isReturnStatement(child) && child.expression !== undefined) returned.push(child.expression);
    if (isFunctionWithBody(child) || ts.isClassLike(child)) return;
    ts.forEachChild(child, visit);
  };
  ts.forEachChild(body, visit);
  return returned;
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
