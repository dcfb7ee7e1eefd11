/*
 * Per-file import and export tables, from syntax alone: ES imports and exports (named, default,
 * namespace, re-exports), CommonJS `require` and `module.exports`, and top-level declarations.
 * resolve.ts follows these across the project's files.
 */
import ts from 'typescript';

/** Where a local name comes from: `name` is the export (`default`, `*` for a namespace, `module.exports` for require). */
export interface ImportBinding {
  readonly spec: string;
  readonly name: string;
}

export type ExportEntry = { readonly t: 'local'; readonly local: string } | { readonly t: 'node'; readonly node: ts.Node } | { readonly t: 'reexport'; readonly spec: string; readonly name: string };

export interface FileModel {
  /** Path relative to the audit root, forward slashes. */
  readonly file: string;
  readonly abs: string;
  readonly sf: ts.SourceFile;
  readonly imports: Map<string, ImportBinding>;
  readonly exports: Map<string, ExportEntry>;
  readonly starExports: string[];
  /** Top-level declarations by name: VariableDeclaration, FunctionDeclaration, ClassDeclaration, EnumDeclaration. */
  readonly topLevel: Map<string, ts.Node>;
  /**
   * Names a call can reach in this file: methods of top-level classes and object literals,
   * top-level functions and variables (classes declared inside functions add theirs when the
   * walker reaches them, see walkClass: a second walk of every tree here cost 5% of a run).
   */
  readonly memberNames: Set<string>;
}

function collectMemberNames(statement: ts.Statement, names: Set<string>): void {
  const members = (list: readonly (ts.ClassElement | ts.ObjectLiteralElementLike)[]): void => {
    for (const member of list) {
      const name = member.name;
      if (name !== undefined && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name))) names.add(name.text);
    }
  };
  if (ts.isClassDeclaration(statement)) members(statement.members);
  else if (ts.isFunctionDeclaration(statement) && statement.name !== undefined) names.add(statement.name.text);
  else if (ts.isVariableStatement(statement)) {
    for (const decl of statement.declarationList.declarations) {
      if (ts.isIdentifier(decl.name)) names.add(decl.name.text);
      const init = decl.initializer;
      if (init === undefined) continue;
      if (ts.isObjectLiteralExpression(init)) members(init.properties);
      else if (ts.isClassExpression(init)) members(init.members);
    }
  } else if (ts.isExportAssignment(statement) && ts.isObjectLiteralExpression(statement.expression)) members(statement.expression.properties);
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}

/** `require('x')` -> 'x'. */
export function requireSpecifier(expr: ts.Expression | undefined): string | null {
  if (expr === undefined) return null;
  if (ts.isCallExpression(expr) && ts.isIdentifier(expr.expression) && expr.expression.text === 'require' && expr.arguments.length === 1) {
    const arg = expr.arguments[0];
    if (arg !== undefined && ts.isStringLiteralLike(arg)) return arg.text;
  }
  return null;
}

function collectRequire(decl: ts.VariableDeclaration, imports: Map<string, ImportBinding>): boolean {
  let init = decl.initializer;
  // require('await-lock').default
  let member: string | null = null;
  if (init !== undefined && ts.isPropertyAccessExpression(init) && requireSpecifier(init.expression) !== null) {
    member = init.name.text;
    init = init.expression;
  }
  const spec = requireSpecifier(init);
  if (spec === null) return false;
  if (ts.isIdentifier(decl.name)) {
    imports.set(decl.name.text, { spec, name: member ?? 'module.exports' });
    return true;
  }
  if (ts.isObjectBindingPattern(decl.name) && member === null) {
    for (const element of decl.name.elements) {
      if (!ts.isIdentifier(element.name)) continue;
      const imported = element.propertyName !== undefined && ts.isIdentifier(element.propertyName) ? element.propertyName.text : element.name.text;
      imports.set(element.name.text, { spec, name: imported });
    }
    return true;
  }
  return false;
}

function moduleExportsAssignment(statement: ts.Statement): ts.BinaryExpression | null {
  if (!ts.isExpressionStatement(statement)) return null;
  const expr = statement.expression;
  if (!ts.isBinaryExpression(expr) || expr.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return null;
  return expr;
}

function isModuleExports(expr: ts.Expression): boolean {
  return ts.isPropertyAccessExpression(expr) && ts.isIdentifier(expr.expression) && expr.expression.text === 'module' && expr.name.text === 'exports';
}

/**
 * Builds the import/export tables of one parsed file.
 *
 * @example
 * const model = buildFileModel('src/a.ts', '/repo/src/a.ts', sf);
 * model.imports.get('Mutex'); // { spec: 'async-mutex', name: 'Mutex' }
 */
export function buildFileModel(file: string, abs: string, sf: ts.SourceFile): FileModel {
  const imports = new Map<string, ImportBinding>();
  const exports = new Map<string, ExportEntry>();
  const starExports: string[] = [];
  const topLevel = new Map<string, ts.Node>();
  const memberNames = new Set<string>();

  for (const statement of sf.statements) {
    collectMemberNames(statement, memberNames);
    if (ts.isImportDeclaration(statement)) {
      if (!ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const spec = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (clause === undefined) continue;
      if (clause.name !== undefined) imports.set(clause.name.text, { spec, name: 'default' });
      const bindings = clause.namedBindings;
      if (bindings !== undefined) {
        if (ts.isNamespaceImport(bindings)) imports.set(bindings.name.text, { spec, name: '*' });
        else for (const element of bindings.elements) imports.set(element.name.text, { spec, name: (element.propertyName ?? element.name).text });
      }
    } else if (ts.isImportEqualsDeclaration(statement)) {
      const ref = statement.moduleReference;
      if (ts.isExternalModuleReference(ref) && ts.isStringLiteral(ref.expression)) imports.set(statement.name.text, { spec: ref.expression.text, name: 'module.exports' });
    } else if (ts.isVariableStatement(statement)) {
      const exported = hasModifier(statement, ts.SyntaxKind.ExportKeyword);
      for (const decl of statement.declarationList.declarations) {
        if (collectRequire(decl, imports)) continue;
        if (ts.isIdentifier(decl.name)) {
          topLevel.set(decl.name.text, decl);
          if (exported) exports.set(decl.name.text, { t: 'local', local: decl.name.text });
        } else {
          for (const name of bindingNames(decl.name)) {
            topLevel.set(name, decl);
            if (exported) exports.set(name, { t: 'local', local: name });
          }
        }
      }
    } else if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) {
      const name = statement.name?.text;
      if (name !== undefined) topLevel.set(name, statement);
      if (hasModifier(statement, ts.SyntaxKind.ExportKeyword)) {
        if (hasModifier(statement, ts.SyntaxKind.DefaultKeyword)) exports.set('default', name !== undefined ? { t: 'local', local: name } : { t: 'node', node: statement });
        else if (name !== undefined) exports.set(name, { t: 'local', local: name });
      }
    } else if (ts.isExportDeclaration(statement)) {
      const spec = statement.moduleSpecifier !== undefined && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : null;
      const clause = statement.exportClause;
      if (clause === undefined) {
        if (spec !== null) starExports.push(spec);
      } else if (ts.isNamespaceExport(clause)) {
        if (spec !== null) exports.set(clause.name.text, { t: 'reexport', spec, name: '*' });
      } else {
        for (const element of clause.elements) {
          const local = (element.propertyName ?? element.name).text;
          exports.set(element.name.text, spec !== null ? { t: 'reexport', spec, name: local } : { t: 'local', local });
        }
      }
    } else if (ts.isExportAssignment(statement)) {
      const expr = statement.expression;
      exports.set('default', ts.isIdentifier(expr) ? { t: 'local', local: expr.text } : { t: 'node', node: expr });
    } else {
      const assignment = moduleExportsAssignment(statement);
      if (assignment === null) continue;
      const target = assignment.left;
      const value = assignment.right;
      if (isModuleExports(target)) {
        if (ts.isIdentifier(value)) {
          exports.set('module.exports', { t: 'local', local: value.text });
          exports.set('default', { t: 'local', local: value.text });
        } else if (ts.isObjectLiteralExpression(value)) {
          for (const prop of value.properties) {
            if (ts.isShorthandPropertyAssignment(prop)) exports.set(prop.name.text, { t: 'local', local: prop.name.text });
            else if (ts.isPropertyAssignment(prop) && ts.isIdentifier(prop.name)) {
              exports.set(prop.name.text, ts.isIdentifier(prop.initializer) ? { t: 'local', local: prop.initializer.text } : { t: 'node', node: prop.initializer });
            }
          }
        } else {
          exports.set('module.exports', { t: 'node', node: value });
        }
      } else if (ts.isPropertyAccessExpression(target) && (ts.isIdentifier(target.expression) && target.expression.text === 'exports' || isModuleExports(target.expression))) {
        exports.set(target.name.text, ts.isIdentifier(value) ? { t: 'local', local: value.text } : { t: 'node', node: value });
      }
    }
  }
  return { file, abs, sf, imports, exports, starExports, topLevel, memberNames };
}

/** Every identifier a binding pattern declares. */
export function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  const names: string[] = [];
  for (const element of name.elements) {
    if (ts.isOmittedExpression(element)) continue;
    names.push(...bindingNames(element.name));
  }
  return names;
}
