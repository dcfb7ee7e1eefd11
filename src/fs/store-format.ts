import { StoreCorruptError, StoreValidationError, formatIssues } from './errors.js';
import type { StandardSchemaIssue, StandardSchemaV1 } from './standard-schema.js';
import { checkVersion, type StoreCodec, type StoreFileContent } from './store-codec.js';

/**
 * A store file's format: its codec and schema. Loading turns bytes into validated content or a
 * `StoreCorruptError`; writing checks that encoded content reads back as valid, because other
 * processes see the decoded file, not the writer's objects.
 */
export class StoreFormat<T> {
  constructor(
    readonly path: string,
    readonly codec: StoreCodec<T>,
    readonly schema: StandardSchemaV1<unknown, T> | undefined,
  ) {}

  /** The schema's output for `data` (with its transforms and defaults), or its issues. */
  async validate(data: unknown): Promise<{ value: T } | { issues: readonly StandardSchemaIssue[] }> {
    if (this.schema === undefined) return { value: data as T };
    const result = await this.schema['~standard'].validate(data);
    return result.issues === undefined ? { value: result.value } : { issues: result.issues };
  }

  /** Decoded and validated file content; throws StoreCorruptError. */
  async load(bytes: Buffer): Promise<StoreFileContent<T>> {
    const decoded = this.#decode(bytes);
    const checked = await this.validate(decoded.data);
    if ('issues' in checked) throw this.#invalid(bytes, checked.issues);
    return { version: decoded.version, data: checked.value };
  }

  /** As `load`, for the synchronous reads; an asynchronous schema cannot be used there. */
  loadSync(bytes: Buffer): StoreFileContent<T> {
    const decoded = this.#decode(bytes);
    if (this.schema === undefined) return decoded as StoreFileContent<T>;
    const result = this.schema['~standard'].validate(decoded.data);
    if (result instanceof Promise) {
      throw new TypeError(`Store: the schema validates asynchronously, so get()/snapshot() cannot load ${this.path}; call await store.reload() first`);
    }
    if (result.issues !== undefined) throw this.#invalid(bytes, result.issues);
    return { version: decoded.version, data: result.value };
  }

  /** The content as others will load it from `bytes`; StoreValidationError if that fails. */
  async readBack(bytes: string | Uint8Array, version: number): Promise<T> {
    let decoded: StoreFileContent<unknown>;
    try {
      decoded = this.codec.decode(Buffer.from(bytes));
    } catch (error) {
      throw new StoreValidationError(this.path, [{ message: `the encoded data does not decode again (${(error as Error).message}); nothing was written` }]);
    }
    if (decoded.version !== version) {
      throw new StoreValidationError(this.path, [{ message: `the codec does not keep the version (wrote ${version}, read back ${String(decoded.version)}); nothing was written` }]);
    }
    const checked = await this.validate(decoded.data);
    if ('issues' in checked) {
      const note = 'the data passed the schema in memory but not once encoded and decoded (values the codec cannot represent, such as a Date in JSON); nothing was written';
      throw new StoreValidationError(this.path, [...checked.issues, { message: note }]);
    }
    return checked.value;
  }

  #decode(bytes: Buffer): StoreFileContent<unknown> {
    try {
      const content = this.codec.decode(bytes);
      const problem = checkVersion(content?.version);
      if (problem !== null) throw new Error(problem);
      return content;
    } catch (error) {
      throw new StoreCorruptError(this.path, 'parse', bytes.length, `Decoding failed: ${(error as Error).message}`, { cause: error });
    }
  }

  #invalid(bytes: Buffer, issues: readonly StandardSchemaIssue[]): StoreCorruptError {
    return new StoreCorruptError(this.path, 'invalid', bytes.length, `Schema issues:\n${formatIssues(issues)}`);
  }
}
