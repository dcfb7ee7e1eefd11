/*
 * The registry of units (functions with their summaries), and their stable names. Names feed
 * fingerprints, so they are built from declarations (`Store.update`, `withLock`,
 * `Store.update/callback#1`), never from line numbers.
 */
import ts from 'typescript';
import type { Unit } from './model.js';
import { enclosingFunction, propertyNameText } from './scope.js';

function className(node: ts.Node): string | undefined {
  const cls = node.parent;
  if (cls !== undefined && ts.isClassLike(cls)) return cls.name?.text ?? '<class>';
  return undefined;
}

export class UnitRegistry {
  readonly #units = new Map<ts.Node, Unit>();
  readonly #anonymous = new Map<Unit, number>();
  readonly all: Unit[] = [];
  #nextId = 0;

  constructor(private readonly fileOf: (sf: ts.SourceFile) => string) {}

  /** The unit of a function-like node or source file, created on first use. */
  unitFor(node: ts.Node): Unit {
    const existing = this.#units.get(node);
    if (existing !== undefined) return existing;
    const parent = ts.isSourceFile(node) ? undefined : this.unitFor(enclosingFunction(node));
    const name = this.#nameOf(node, parent);
    const params = ts.isSourceFile(node) || !ts.isFunctionLike(node) ? [] : node.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ''));
    const unit: Unit = {
      id: this.#nextId++,
      node: node as ts.SignatureDeclaration,
      file: this.fileOf(node.getSourceFile()),
      name,
      ...(parent !== undefined ? { parent } : {}),
      params,
      attachment: { t: 'detached' },
      acquires: [],
      calls: [],
      blocking: [],
      callbacks: [],
      awaits: [],
      paramInvokes: [],
      paramRuns: [],
      returnsInTry: [],
      local: [],
      walked: false,
    };
    this.#units.set(node, unit);
    this.all.push(unit);
    return unit;
  }

  #nameOf(node: ts.Node, parent: Unit | undefined): string {
    if (ts.isSourceFile(node)) return '<module>';
    const prefix = parent !== undefined && parent.name !== '<module>' ? `${parent.name}/` : '';
    const cls = className(node);
    if (cls !== undefined) {
      if (ts.isConstructorDeclaration(node)) return `${cls}.constructor`;
      const member = propertyNameText((node as ts.MethodDeclaration).name);
      return `${prefix}${cls}.${member ?? '<computed>'}`;
    }
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) && node.name !== undefined) return `${prefix}${node.name.text}`;
    const holder = node.parent;
    if (holder !== undefined) {
      // class field = () => {}
      if (ts.isPropertyDeclaration(holder) && holder.initializer === node) {
        const owner = className(holder);
        const member = propertyNameText(holder.name) ?? '<computed>';
        return owner !== undefined ? `${owner}.${member}` : `${prefix}${member}`;
      }
      if (ts.isVariableDeclaration(holder) && holder.initializer === node && ts.isIdentifier(holder.name)) return `${prefix}${holder.name.text}`;
      if ((ts.isPropertyAssignment(holder) && holder.initializer === node) || ts.isMethodDeclaration(node)) {
        const member = propertyNameText((ts.isMethodDeclaration(node) ? node : (holder as ts.PropertyAssignment)).name) ?? '<computed>';
        const literal = ts.isMethodDeclaration(node) ? holder : holder.parent;
        const owner = literal !== undefined && ts.isObjectLiteralExpression(literal) && ts.isVariableDeclaration(literal.parent) && ts.isIdentifier(literal.parent.name) ? literal.parent.name.text : undefined;
        return `${prefix}${owner !== undefined ? `${owner}.` : ''}${member}`;
      }
    }
    const base = parent?.name ?? '<module>';
    const index = (this.#anonymous.get(parent as Unit) ?? 0) + 1;
    if (parent !== undefined) this.#anonymous.set(parent, index);
    return `${base}/callback#${index}`;
  }
}
