/*
 * The statement half of the per-function walk (walker.ts): statements in order, with the locks
 * held; branches (if, try, switch, loops) walked apart and joined, where a lock held on only some
 * branches becomes "maybe held"; declarations and expression statements that acquire a lock.
 * Expressions, calls and acquisitions are the Walker's.
 */
import ts from 'typescript';
import { classOf, fieldVal } from './classes.js';
import type { Hold } from './model.js';
import { isFunctionWithBody, unwrap } from './scope.js';
import type { WalkContext, Walker } from './walker.js';

function joinHolds(a: readonly Hold[], b: readonly Hold[]): Hold[] {
  const out: Hold[] = [];
  for (const hold of a) {
    const other = b.find((h) => h.lockKey === hold.lockKey && h.handle === hold.handle);
    out.push(other !== undefined ? (hold.certain && other.certain ? hold : { ...hold, certain: false }) : { ...hold, certain: false });
  }
  for (const hold of b) if (!a.some((h) => h.lockKey === hold.lockKey && h.handle === hold.handle)) out.push({ ...hold, certain: false });
  return out;
}

/** Field names a class declares: properties, parameter properties, constructor assignments. */
function fieldNames(node: ts.ClassLikeDeclaration): string[] {
  const names: string[] = [];
  for (const member of node.members) {
    if (ts.isPropertyDeclaration(member) && (ts.isIdentifier(member.name) || ts.isPrivateIdentifier(member.name))) names.push(member.name.text);
    if (ts.isConstructorDeclaration(member)) {
      for (const param of member.parameters) if (ts.getModifiers(param)?.length && ts.isIdentifier(param.name)) names.push(param.name.text);
      for (const statement of member.body?.statements ?? []) {
        if (!ts.isExpressionStatement(statement) || !ts.isBinaryExpression(statement.expression)) continue;
        const left = statement.expression.left;
        if (ts.isPropertyAccessExpression(left) && left.expression.kind === ts.SyntaxKind.ThisKeyword) names.push(left.name.text);
      }
    }
  }
  return names;
}

/** Walks a statement list; true when it always exits (return/throw). */
export function walkStatements(w: Walker, ctx: WalkContext, list: readonly ts.Statement[], scope?: ts.Node): boolean {
  let exits = false;
  for (const statement of list) {
    if (exits) {
      // Hoisted declarations after a return still exist.
      if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) walkStatement(w, ctx, statement);
      continue;
    }
    exits = walkStatement(w, ctx, statement);
  }
  if (scope !== undefined) ctx.held = ctx.held.filter((h) => h.scope !== scope);
  return exits;
}

export function walkStatement(w: Walker, ctx: WalkContext, statement: ts.Statement): boolean {
  if (ts.isVariableStatement(statement)) {
    const flags = statement.declarationList.flags;
    const using = (flags & ts.NodeFlags.Using) !== 0 || (flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing;
    for (const decl of statement.declarationList.declarations) walkDeclaration(w, ctx, statement, decl, using);
    return false;
  }
  if (ts.isExpressionStatement(statement)) {
    walkExpressionStatement(w, ctx, statement);
    return false;
  }
  if (ts.isReturnStatement(statement)) {
    if (statement.expression !== undefined) {
      w.local.returnInTry(ctx, statement);
      w.visit(ctx, statement.expression);
    }
    return true;
  }
  if (ts.isThrowStatement(statement)) {
    w.visit(ctx, statement.expression);
    return true;
  }
  if (ts.isIfStatement(statement)) return walkIf(w, ctx, statement);
  if (ts.isBlock(statement)) return walkStatements(w, ctx, statement.statements, statement);
  if (ts.isTryStatement(statement)) return walkTry(w, ctx, statement);
  if (ts.isIterationStatement(statement, false)) {
    walkLoop(w, ctx, statement);
    return false;
  }
  if (ts.isSwitchStatement(statement)) return walkSwitch(w, ctx, statement);
  if (ts.isLabeledStatement(statement)) return walkStatement(w, ctx, statement.statement);
  if (ts.isFunctionDeclaration(statement)) {
    if (statement.body !== undefined) w.nested(null, statement, { t: 'detached' });
    return false;
  }
  if (ts.isClassDeclaration(statement)) {
    walkClass(w, ctx, statement);
    return false;
  }
  if (ts.isExportAssignment(statement)) w.visit(ctx, statement.expression);
  return false;
}

function memberNamesOf(node: ts.ClassLikeDeclaration): string[] {
  const names: string[] = [];
  for (const member of node.members) {
    const name = member.name;
    if (name !== undefined && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name))) names.push(name.text);
  }
  return names;
}

export function walkClass(w: Walker, ctx: WalkContext, node: ts.ClassLikeDeclaration): void {
  // Resolve every field once so that locks nobody acquires still reach the inventory.
  const cls = classOf(w.resolver, node);
  for (const name of fieldNames(node)) fieldVal(w.resolver, cls, name, 'this');
  // Calls like this.method() are classified only for known member names; a class declared inside
  // a function is not among the top-level ones that bindings.ts collects.
  w.calls.noteMemberNames(memberNamesOf(node));
  for (const member of node.members) {
    if (isFunctionWithBody(member)) w.nested(null, member, { t: 'detached' });
    else if (ts.isPropertyDeclaration(member) && member.initializer !== undefined) w.visit(ctx, member.initializer);
  }
}

function walkDeclaration(w: Walker, ctx: WalkContext, statement: ts.VariableStatement, decl: ts.VariableDeclaration, using: boolean): void {
  const init = decl.initializer;
  if (ts.isSourceFile(ctx.body) && ts.isIdentifier(decl.name) && (init === undefined || ts.isNewExpression(unwrap(init)) || ts.isCallExpression(unwrap(init)))) {
    w.resolver.valOfTop(w.resolver.fileModel(ctx.body), decl.name.text);
  }
  if (init === undefined) return;
  const acquisition = w.calls.acquisitionOf(init);
  w.visit(ctx, init);
  if (acquisition === undefined) return;
  let handle: string | undefined;
  if (ts.isIdentifier(decl.name)) handle = decl.name.text;
  else if (ts.isArrayBindingPattern(decl.name)) {
    const second = decl.name.elements[1];
    if (second !== undefined && ts.isBindingElement(second) && ts.isIdentifier(second.name)) handle = second.name.text;
  }
  w.acquired(ctx, acquisition, statement, handle, using);
}

function walkExpressionStatement(w: Walker, ctx: WalkContext, statement: ts.ExpressionStatement): void {
  const expr = unwrap(statement.expression);
  const direct = w.calls.acquisitionOf(expr);
  if (direct !== undefined) {
    w.visit(ctx, expr);
    w.acquired(ctx, direct, statement, undefined, false);
    return;
  }
  if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    const assigned = w.calls.acquisitionOf(expr.right);
    if (assigned !== undefined) {
      w.visit(ctx, expr.right);
      w.acquired(ctx, assigned, statement, unwrap(expr.left).getText(), false);
      return;
    }
  }
  w.visit(ctx, expr);
}

function walkIf(w: Walker, ctx: WalkContext, statement: ts.IfStatement): boolean {
  w.local.flagGuard(ctx, statement);
  w.visit(ctx, statement.expression);
  const stateCheck = w.local.stateCheck(ctx, statement);
  const before = ctx.held;
  const thenExits = walkStatements(w, ctx, [statement.thenStatement]);
  const afterThen = ctx.held;
  if (stateCheck !== null) w.local.endStateCheck(ctx, stateCheck, thenExits);
  ctx.held = before;
  const elseExits = statement.elseStatement !== undefined ? walkStatements(w, ctx, [statement.elseStatement]) : false;
  const afterElse = ctx.held;
  if (thenExits && elseExits) return true;
  ctx.held = thenExits ? afterElse : elseExits ? afterThen : joinHolds(afterThen, afterElse);
  return false;
}

function walkTry(w: Walker, ctx: WalkContext, statement: ts.TryStatement): boolean {
  const before = ctx.held;
  if (statement.finallyBlock !== undefined) ctx.tryFinally.push(statement);
  const tryExits = walkStatements(w, ctx, statement.tryBlock.statements, statement.tryBlock);
  if (statement.finallyBlock !== undefined) ctx.tryFinally.pop();
  let after = ctx.held;
  let exits = tryExits;
  if (statement.catchClause !== undefined) {
    ctx.held = joinHolds(before, after);
    const catchExits = walkStatements(w, ctx, statement.catchClause.block.statements, statement.catchClause.block);
    after = tryExits ? ctx.held : catchExits ? after : joinHolds(after, ctx.held);
    exits = tryExits && catchExits;
  }
  if (statement.finallyBlock !== undefined) {
    ctx.held = after;
    const finallyExits = walkStatements(w, ctx, statement.finallyBlock.statements, statement.finallyBlock);
    return exits || finallyExits;
  }
  ctx.held = after;
  return exits;
}

function walkLoop(w: Walker, ctx: WalkContext, statement: ts.IterationStatement): void {
  if (ts.isForStatement(statement)) {
    if (statement.initializer !== undefined) {
      if (ts.isVariableDeclarationList(statement.initializer)) for (const d of statement.initializer.declarations) if (d.initializer !== undefined) w.visit(ctx, d.initializer);
      else w.visit(ctx, statement.initializer);
    }
    if (statement.condition !== undefined) w.visit(ctx, statement.condition);
  } else if (ts.isForOfStatement(statement) || ts.isForInStatement(statement)) {
    w.visit(ctx, statement.expression);
    if (ts.isForOfStatement(statement) && statement.awaitModifier !== undefined) w.awaitPoint(ctx, statement);
  } else if (ts.isWhileStatement(statement)) {
    w.visit(ctx, statement.expression);
  }
  const before = ctx.held;
  const firstAcquire = ctx.unit.acquires.length;
  walkStatements(w, ctx, [statement.statement]);
  if (ts.isForStatement(statement) && statement.incrementor !== undefined) w.visit(ctx, statement.incrementor);
  if (ts.isDoStatement(statement)) w.visit(ctx, statement.expression);
  if (ts.isForOfStatement(statement)) w.local.loopAcquisitions(ctx, statement, firstAcquire);
  ctx.held = ts.isDoStatement(statement) ? ctx.held : joinHolds(before, ctx.held);
}

function walkSwitch(w: Walker, ctx: WalkContext, statement: ts.SwitchStatement): boolean {
  w.visit(ctx, statement.expression);
  const before = ctx.held;
  let joined: Hold[] | null = null;
  let allExit = true;
  for (const clause of statement.caseBlock.clauses) {
    ctx.held = before;
    for (const e of ts.isCaseClause(clause) ? [clause.expression] : []) w.visit(ctx, e);
    const exits = walkStatements(w, ctx, clause.statements);
    if (!exits) {
      allExit = false;
      joined = joined === null ? ctx.held : joinHolds(joined, ctx.held);
    }
  }
  const hasDefault = statement.caseBlock.clauses.some(ts.isDefaultClause);
  if (allExit && hasDefault) return true;
  ctx.held = joined === null ? before : hasDefault ? joined : joinHolds(before, joined);
  return false;
}

