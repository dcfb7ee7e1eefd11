/*
 * Is an acquisition released on every path? Looks at the statements after the acquisition, then
 * those after each enclosing statement, up to the function's end: a `finally` that releases covers
 * everything inside its `try`; otherwise a `return`/`throw` before the release, a call that can
 * throw before the release, a release only inside a callback, or no release at all is a problem.
 * An acquisition whose release handle escapes (returned, stored, passed on) is handed over, and
 * not this function's business.
 */
import ts from 'typescript';
import { isFunctionWithBody, unwrap } from './scope.js';

/** Recognises the statement (or expression) that releases this acquisition. */
export interface ReleaseMatcher {
  /** Source text of the release handle (`release`, `guard`), if any. */
  readonly handle?: string;
  /** Source text of the lock object and its release methods (`this.mutex`, `release`). */
  readonly object?: { readonly text: string; readonly methods: ReadonlySet<string> };
  /** A flag lock: released by assigning `false` to this text. */
  readonly flag?: string;
  /** proper-lockfile: released by `unlock(<this text>)`. */
  readonly unlockKey?: string;
}

export type ReleaseProblem =
  | { readonly t: 'early-exit'; readonly node: ts.Node }
  | { readonly t: 'may-throw'; readonly node: ts.Node }
  | { readonly t: 'callback-only'; readonly node: ts.Node }
  | { readonly t: 'never' };

const GUARD_METHODS = new Set(['release', 'unlock', 'dispose']);

function isSymbolDispose(expr: ts.Expression): boolean {
  const value = unwrap(expr);
  return ts.isPropertyAccessExpression(value) && value.expression.getText() === 'Symbol' && (value.name.text === 'dispose' || value.name.text === 'asyncDispose');
}

/** True when `node` itself is a release (a call or a flag assignment). */
export function isRelease(node: ts.Node, matcher: ReleaseMatcher): boolean {
  if (ts.isCallExpression(node)) {
    const callee = unwrap(node.expression);
    const text = callee.getText();
    if (matcher.handle !== undefined && text === matcher.handle) return true;
    if (ts.isPropertyAccessExpression(callee)) {
      const base = unwrap(callee.expression).getText();
      if (matcher.handle !== undefined && base === matcher.handle && GUARD_METHODS.has(callee.name.text)) return true;
      if (matcher.object !== undefined && base === matcher.object.text && matcher.object.methods.has(callee.name.text)) return true;
      if (matcher.unlockKey !== undefined && callee.name.text === 'unlock' && node.arguments[0]?.getText() === matcher.unlockKey) return true;
    }
    if (ts.isElementAccessExpression(callee) && matcher.handle !== undefined && unwrap(callee.expression).getText() === matcher.handle && isSymbolDispose(callee.argumentExpression)) return true;
    if (ts.isIdentifier(callee) && callee.text === 'unlock' && matcher.unlockKey !== undefined && node.arguments[0]?.getText() === matcher.unlockKey) return true;
  }
  if (matcher.flag !== undefined && ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && unwrap(node.left).getText() === matcher.flag) {
    return unwrap(node.right).kind === ts.SyntaxKind.FalseKeyword;
  }
  return false;
}

interface Scan {
  /** A release outside nested functions. */
  direct: boolean;
  /** A release inside a nested function only. */
  nested: ts.Node | null;
  /** A call, `new` or `await` outside nested functions and before any release in the node. */
  risky: ts.Node | null;
}

function scanNode(root: ts.Node, matcher: ReleaseMatcher): Scan {
  const result: Scan = { direct: false, nested: null, risky: null };
  const visit = (node: ts.Node, nested: boolean): void => {
    if (isRelease(node, matcher)) {
      if (nested) result.nested ??= node;
      else result.direct = true;
      return;
    }
    if (!nested && !result.direct && result.risky === null) {
      if ((ts.isCallExpression(node) && !isHarmlessCall(node)) || ts.isNewExpression(node) || ts.isAwaitExpression(node)) result.risky = node;
    }
    const inner = nested || isFunctionWithBody(node);
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(root, false);
  return result;
}

function isHarmlessCall(call: ts.CallExpression): boolean {
  const text = call.expression.getText();
  return /^console\.\w+$/.test(text);
}

function releasingFinally(statement: ts.TryStatement, matcher: ReleaseMatcher): boolean {
  return statement.finallyBlock !== undefined && scanNode(statement.finallyBlock, matcher).direct;
}

interface Flow {
  released: boolean;
  exits: boolean;
}

class PathScan {
  problem: ReleaseProblem | null = null;
  callbackRelease: ts.Node | null = null;

  constructor(private readonly matcher: ReleaseMatcher) {}

  /** A path that leaves is the clearest story; a call that may throw is reported only if there is none. */
  report(problem: ReleaseProblem): void {
    if (problem.t === 'early-exit') {
      if (this.problem === null || this.problem.t !== 'early-exit') this.problem = problem;
    } else {
      this.problem ??= problem;
    }
  }

  get done(): boolean {
    return this.problem !== null && this.problem.t === 'early-exit';
  }

  statements(list: readonly ts.Statement[], flow: Flow): Flow {
    let current = flow;
    for (const statement of list) {
      if (current.released || current.exits || this.done) break;
      current = this.statement(statement, current);
    }
    return current;
  }

  statement(statement: ts.Statement, flow: Flow): Flow {
    if (ts.isTryStatement(statement)) {
      if (releasingFinally(statement, this.matcher)) return { released: true, exits: false };
      const inTry = this.statements(statement.tryBlock.statements, flow);
      if (statement.catchClause === undefined) return inTry;
      const inCatch = this.statements(statement.catchClause.block.statements, flow);
      return join(inTry, inCatch);
    }
    if (ts.isReturnStatement(statement) || ts.isThrowStatement(statement)) {
      const scan = statement.expression !== undefined ? scanNode(statement.expression, this.matcher) : null;
      if (scan?.direct === true) return { released: true, exits: true };
      this.report({ t: 'early-exit', node: statement });
      return { released: false, exits: true };
    }
    if (ts.isIfStatement(statement)) {
      const condition = scanNode(statement.expression, this.matcher);
      if (condition.direct) return { released: true, exits: false };
      if (condition.risky !== null) this.report({ t: 'may-throw', node: condition.risky });
      const whenTrue = this.statements(blockStatements(statement.thenStatement), flow);
      const whenFalse = statement.elseStatement !== undefined ? this.statements(blockStatements(statement.elseStatement), flow) : flow;
      return join(whenTrue, whenFalse);
    }
    if (ts.isBlock(statement)) return this.statements(statement.statements, flow);
    if (ts.isIterationStatement(statement, false) || ts.isLabeledStatement(statement)) {
      const body = ts.isLabeledStatement(statement) ? statement.statement : statement.statement;
      const inner = this.statements(blockStatements(body), flow);
      // A release inside a loop body does not run when the loop runs zero times.
      return { released: inner.released && ts.isDoStatement(statement), exits: false };
    }
    if (ts.isSwitchStatement(statement)) {
      let all = true;
      for (const clause of statement.caseBlock.clauses) all = this.statements(clause.statements, flow).released && all;
      const hasDefault = statement.caseBlock.clauses.some((c) => ts.isDefaultClause(c));
      return { released: all && hasDefault, exits: false };
    }
    const scan = scanNode(statement, this.matcher);
    if (scan.direct) return { released: true, exits: false };
    // The call that registers the releasing callback is the release mechanism, not a risk.
    if (scan.nested !== null) this.callbackRelease ??= scan.nested;
    else if (scan.risky !== null) this.report({ t: 'may-throw', node: scan.risky });
    return flow;
  }
}

function join(a: Flow, b: Flow): Flow {
  if (a.exits) return b;
  if (b.exits) return a;
  return { released: a.released && b.released, exits: false };
}

function blockStatements(statement: ts.Statement): readonly ts.Statement[] {
  return ts.isBlock(statement) ? statement.statements : [statement];
}

/**
 * Checks the paths from `start` (the statement that acquires; its following siblings and those of
 * its enclosing statements are scanned) to the end of `fnBody`.
 *
 * @example
 * const problem = checkRelease(statement, body, { handle: 'release' }); // null when always released
 */
export function checkRelease(start: ts.Statement, fnBody: ts.Node, matcher: ReleaseMatcher): ReleaseProblem | null {
  // Inside a try whose finally releases: covered, whatever comes before the finally.
  for (let node: ts.Node = start; node !== fnBody && node.parent !== undefined; node = node.parent) {
    const parent = node.parent;
    if (ts.isTryStatement(parent) && parent.tryBlock === node && releasingFinally(parent, matcher)) return null;
  }
  const scan = new PathScan(matcher);
  let flow: Flow = { released: false, exits: false };
  let current: ts.Node = start;
  while (current !== fnBody && !flow.released && !flow.exits && !scan.done) {
    const container = current.parent;
    if (container === undefined) break;
    const siblings = ts.isBlock(container) || ts.isSourceFile(container) || ts.isModuleBlock(container) ? container.statements : ts.isCaseClause(container) || ts.isDefaultClause(container) ? container.statements : undefined;
    if (siblings !== undefined) {
      const index = siblings.indexOf(current as ts.Statement);
      flow = scan.statements(siblings.slice(index + 1), flow);
    }
    if (container === fnBody) break;
    current = container;
  }
  if (scan.problem?.t === 'early-exit') return scan.problem;
  if (!flow.released && !flow.exits && scan.callbackRelease !== null) return { t: 'callback-only', node: scan.callbackRelease };
  if (scan.problem !== null) return scan.problem;
  if (flow.released || flow.exits) return null;
  return { t: 'never' };
}

/**
 * True when an identifier handle leaves the function's hands: returned, stored, passed as an
 * argument (other than to its own release), or put in an object or array.
 */
export function handleEscapes(fnBody: ts.Node, handle: string, matcher: ReleaseMatcher): boolean {
  let escapes = false;
  const visit = (node: ts.Node): void => {
    if (escapes) return;
    if (ts.isIdentifier(node) && node.text === handle) {
      const parent = node.parent;
      if (parent === undefined) return;
      if (ts.isCallExpression(parent) && parent.arguments.includes(node as ts.Expression)) escapes = !isRelease(parent, matcher);
      else if (ts.isReturnStatement(parent) || ts.isArrowFunction(parent)) escapes = true;
      else if (ts.isBinaryExpression(parent) && parent.right === node && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) escapes = true;
      else if (ts.isShorthandPropertyAssignment(parent) || (ts.isPropertyAssignment(parent) && parent.initializer === node) || ts.isArrayLiteralExpression(parent)) escapes = true;
      else if (ts.isVariableDeclaration(parent) && parent.initializer === node) escapes = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(fnBody);
  return escapes;
}

/**
 * Checks a callback body that receives the release (`.then((release) => ...)`, async-lock's
 * `done`): every path from its first statement must release.
 */
export function checkReleaseInBody(body: ts.ConciseBody, matcher: ReleaseMatcher): ReleaseProblem | null {
  if (!ts.isBlock(body)) return scanNode(body, matcher).direct ? null : { t: 'never' };
  const scan = new PathScan(matcher);
  const flow = scan.statements(body.statements, { released: false, exits: false });
  if (scan.problem?.t === 'early-exit') return scan.problem;
  if (!flow.released && !flow.exits && scan.callbackRelease !== null) return { t: 'callback-only', node: scan.callbackRelease };
  if (scan.problem !== null) return scan.problem;
  if (flow.released || flow.exits) return null;
  return { t: 'never' };
}
