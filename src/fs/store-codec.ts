/** What a store file holds: the data and the version it was written at. */
export interface StoreFileContent<T> {
  readonly version: number;
  readonly data: T;
}

/**
 * How a Store turns its content into bytes and back. `decode` throws on malformed input; the
 * Store reports that as `StoreCorruptError` and never overwrites the file.
 *
 * @example
 * const yamlCodec: StoreCodec<Config> = {
 *   encode: (content) => YAML.stringify(content),
 *   decode: (bytes) => YAML.parse(bytes.toString('utf8')),
 * };
 */
export interface StoreCodec<T> {
  encode(content: StoreFileContent<T>): string | Uint8Array;
  decode(bytes: Buffer): StoreFileContent<unknown>;
}

/**
 * The default codec: pretty-printed JSON, `{ "version": n, "data": ... }`, with a final newline
 * (diff-friendly, and a person can read and repair it).
 */
export const jsonCodec: StoreCodec<unknown> = {
  encode(content) {
    return `${JSON.stringify({ version: content.version, data: content.data }, null, 2)}\n`;
  },
  decode(bytes) {
    const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('data' in parsed) || !('version' in parsed)) {
      throw new Error('not a deadbolt store file: expected a JSON object { "version": <integer>, "data": <value> }');
    }
    return parsed as StoreFileContent<unknown>;
  },
};

export function checkVersion(version: unknown): string | null {
  return typeof version === 'number' && Number.isSafeInteger(version) && version >= 0 ? null : `version must be a non-negative integer, got ${JSON.stringify(version)}`;
}

/**
 * Freezes plain data deeply, so a snapshot handed to readers cannot be changed under other
 * readers. Objects of other classes (Map, Date) are frozen shallowly.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value) || proto === Object.prototype || proto === null) for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
