/*
 * Small syntactic judgements the walker needs: is an array sorted before use, is a call a
 * notification of listeners, is JSON work bounded, does a parameter look like a callback.
 */
import ts from 'typescript';
import { bindingNames } from './bindings.js';
import { isFunctionWithBody, lookup, unwrap } from './scope.js';

const LISTENER_COLLECTION = /(listener|subscriber|handler|observer|callback|watcher|hook|waiter|cb)s?\b|(Listeners|Subscribers|Handlers|Observers|Callbacks|Watchers|Hooks)\b/i;
const LISTENER_NAME = /^(on[A-Z]\w*|cb|callback|listener|handler|notify\w*|subscriber|observer|emit\w*)$|(Listener|Callback|Handler|Subscriber|Observer)$/;
const SYNC_ARRAY_METHODS = new Set(['forEach', 'map', 'filter', 'reduce', 'reduceRight', 'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex', 'flatMap', 'sort', 'toSorted']);

/** Array methods that run their callback before returning, so it runs under the caller's locks. */
export function isSyncArrayMethod(name: string): boolean {
  return SYNC_ARRAY_METHODS.has(name);
}

/** A parameter name that reads as a notification callback rather than the body of a wrapper. */
export function isListenerName(name: string): boolean {
  return LISTENER_NAME.test(name);
}

/** True when `text` names a collection of listeners (`this.listeners`, `subscribers`). */
export function isListenerCollection(text: string): boolean {
  return LISTENER_COLLECTION.test(text);
}

/**
 * An identifier bound to one element of a listener collection: `for (const l of this.listeners)`
 * or the parameter of `this.subscribers.forEach((s) => ...)`. Found from the enclosing loop or
 * callback, without a scope lookup.
 */
export function isListenerElement(id: ts.Identifier): boolean {
  const name = id.text;
  for (let node: ts.Node | undefined = id.parent; node !== undefined && !ts.isSourceFile(node); node = node.parent) {
    if (ts.isForOfStatement(node) && ts.isVariableDeclarationList(node.initializer) && node.initializer.declarations.some((d) => bindingNames(d.name).includes(name))) {
      return isListenerCollection(node.expression.getText());
    }
    if (isFunctionWithBody(node)) {
      const first = node.parameters[0];
      if (first === undefined || !bindingNames(first.name).includes(name)) return false;
      const call = node.parent;
      if (call !== undefined && ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) && isSyncArrayMethod(call.expression.name.text)) {
        return isListenerCollection(call.expression.expression.getText());
      }
      return false;
    }
  }
  return false;
}

/** `emit('x')`, `this.emit(...)`, `target.dispatchEvent(...)`. */
export function isEmit(call: ts.CallExpression): boolean {
  const callee = unwrap(call.expression);
  const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
  return name === 'emit' || name === 'dispatchEvent' || name === 'emitAsync';
}

function isSortCall(expr: ts.Expression): boolean {
  const value = unwrap(expr);
  if (!ts.isCallExpression(value)) return false;
  const callee = unwrap(value.expression);
  if (!ts.isPropertyAccessExpression(callee)) return false;
  if (callee.name.text === 'sort' || callee.name.text === 'toSorted') return true;
  // sorted(...).map(...) keeps the order
  if (['map', 'filter', 'slice'].includes(callee.name.text)) return isSortCall(callee.expression);
  return false;
}

/**
 * True when the order of `expr` does not come from the caller: sorted (`[...keys].sort()`, a
 * variable initialised sorted or sorted in place before `at`), or a literal list.
 */
export function isOrdered(expr: ts.Expression, sortedInPlace: ReadonlySet<string>): boolean {
  const value = unwrap(expr);
  if (isSortCall(value)) return true;
  if (ts.isArrayLiteralExpression(value)) return value.elements.every((e) => ts.isStringLiteralLike(e) || ts.isNumericLiteral(e));
  if (ts.isIdentifier(value)) {
    if (sortedInPlace.has(value.text)) return true;
    const sym = lookup(value);
    if (sym?.k === 'local' && ts.isVariableDeclaration(sym.node) && sym.node.initializer !== undefined) return isOrdered(sym.node.initializer, sortedInPlace);
  }
  return false;
}

/** True when `expr` looks like more than one key: an array literal of variables, a list-named variable, a mapped list. */
export function isKeyList(expr: ts.Expression): boolean {
  const value = unwrap(expr);
  if (ts.isArrayLiteralExpression(value)) return value.elements.length > 1;
  if (ts.isCallExpression(value)) {
    const callee = unwrap(value.expression);
    return ts.isPropertyAccessExpression(callee) && ['map', 'filter', 'concat', 'slice', 'keys', 'from'].includes(callee.name.text);
  }
  if (ts.isIdentifier(value) || ts.isPropertyAccessExpression(value)) {
    const name = ts.isIdentifier(value) ? value.text : value.name.text;
    if (/(keys|ids|names|resources|accounts|paths|items|list)$/i.test(name)) return true;
    if (ts.isIdentifier(value)) {
      const sym = lookup(value);
      const type = sym?.k === 'param' ? sym.node.type : sym?.k === 'local' && ts.isVariableDeclaration(sym.node) ? sym.node.type : undefined;
      if (type !== undefined && (ts.isArrayTypeNode(type) || (ts.isTypeReferenceNode(type) && /Array$/.test(type.typeName.getText())))) return true;
    }
  }
  return false;
}

/**
 * `JSON.stringify(x)` / `JSON.parse(x)` whose input size is not visibly bounded: a variable,
 * parameter, field or call result, as opposed to a literal or an object literal built in place.
 */
export function unboundedJson(call: ts.CallExpression): string | null {
  const callee = unwrap(call.expression);
  if (!ts.isPropertyAccessExpression(callee) || callee.expression.getText() !== 'JSON') return null;
  const method = callee.name.text;
  if (method !== 'stringify' && method !== 'parse') return null;
  const arg = call.arguments[0];
  if (arg === undefined) return null;
  // `${JSON.stringify(x)}` in a message formats one value for a human, not a collection.
  if (call.parent !== undefined && (ts.isTemplateSpan(call.parent) || (ts.isBinaryExpression(call.parent) && call.parent.operatorToken.kind === ts.SyntaxKind.PlusToken))) return null;
  const value = unwrap(arg);
  if (ts.isStringLiteralLike(value) || ts.isNumericLiteral(value) || ts.isObjectLiteralExpression(value) || ts.isTemplateExpression(value)) return null;
  if (value.kind === ts.SyntaxKind.TrueKeyword || value.kind === ts.SyntaxKind.FalseKeyword || value.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isArrayLiteralExpression(value) && !value.elements.some(ts.isSpreadElement)) return null;
  return `JSON.${method}`;
}
