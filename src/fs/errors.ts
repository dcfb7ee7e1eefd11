import { DeadboltError } from '../discipline/errors.js';
import type { StandardSchemaIssue } from './standard-schema.js';

/**
 * An optimistic update lost: `update(fn, { expectVersion })` found the store at another version
 * (another process or caller wrote since the caller read). Nothing was written; read again and retry.
 *
 * @example
 * const { version, data } = store.snapshot();
 * try { await store.update((d) => plan(d, data), { expectVersion: version }); }
 * catch (error) { if (error instanceof ConflictError) return retry(); throw error; }
 */
export class ConflictError extends DeadboltError {
  readonly code = 'ERR_STORE_CONFLICT' as const;
  override readonly name = 'ConflictError';

  constructor(
    readonly path: string,
    readonly expected: number,
    /** The version found; with a change earlier in the same coalesced write, the version that change will get. */
    readonly actual: number,
  ) {
    super('ERR_STORE_CONFLICT', `version conflict in ${path}: expected version ${expected}, found ${actual}`, `The store moved to version ${actual} after the caller read version ${expected}. Nothing was written. Read the store again and retry the update.`);
  }

  static override readonly CODE = 'ERR_STORE_CONFLICT';
}

/**
 * The store file exists but cannot be used: it does not decode (`kind: 'parse'`) or its data
 * fails the schema (`kind: 'invalid'`). The file is never overwritten or removed; its bytes stay
 * for a person to inspect. Every read and update fails with this error until the file is fixed.
 *
 * @example
 * catch (error) { if (error instanceof StoreCorruptError) alert(`fix ${error.path}: ${error.message}`); }
 */
export class StoreCorruptError extends DeadboltError {
  readonly code = 'ERR_STORE_CORRUPT' as const;
  override readonly name = 'StoreCorruptError';

  constructor(
    readonly path: string,
    readonly kind: 'parse' | 'invalid',
    /** Size of the file in bytes. */
    readonly size: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_STORE_CORRUPT',
      `corrupt store file ${path}: ${kind === 'parse' ? 'it does not decode' : 'its data fails the schema'}`,
      `${detail}\nThe file (${size} bytes) was left exactly as it is. Repair or move it away, then retry.`,
    );
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, configurable: true, writable: true });
  }

  static override readonly CODE = 'ERR_STORE_CORRUPT';
}

/**
 * An update produced data that fails the store's schema. That caller's change was dropped (the
 * file is untouched by it); other callers coalesced into the same write are not affected.
 *
 * @example
 * catch (error) { if (error instanceof StoreValidationError) console.error(error.issues); }
 */
export class StoreValidationError extends DeadboltError {
  readonly code = 'ERR_STORE_INVALID' as const;
  override readonly name = 'StoreValidationError';

  constructor(
    readonly path: string,
    readonly issues: readonly StandardSchemaIssue[],
  ) {
    super('ERR_STORE_INVALID', `update rejected: the new data for ${path} fails the schema`, formatIssues(issues));
  }

  static override readonly CODE = 'ERR_STORE_INVALID';
}

export function formatIssues(issues: readonly StandardSchemaIssue[]): string {
  return issues
    .slice(0, 20)
    .map((issue) => {
      const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment)).join('.');
      return `  - ${path === '' ? '(root)' : path}: ${issue.message}`;
    })
    .concat(issues.length > 20 ? [`  ... and ${issues.length - 20} more`] : [])
    .join('\n');
}
