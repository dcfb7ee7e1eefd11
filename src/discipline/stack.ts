/**
 * The library's own source root (src/ under tsx, dist/ when built). Frames in it are the
 * library's, except the CLI's, and are left out of reports so that they start at user code.
 */
const LIBRARY_ROOT: string | null = (() => {
  const frame = (new Error().stack ?? '').split('\n')[1] ?? '';
  const file = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/.exec(frame.trim())?.[1];
  if (file === undefined) return null;
  const dir = file.slice(0, file.lastIndexOf('/'));
  return dir.endsWith('/discipline') ? dir.slice(0, -'/discipline'.length) : dir;
})();

function isLibraryFrame(line: string): boolean {
  if (line.includes('(node:internal') || line.includes('at new Promise (<anonymous>)')) return true;
  if (LIBRARY_ROOT === null) return false;
  const at = line.indexOf(LIBRARY_ROOT + '/');
  return at !== -1 && !line.startsWith('cli/', at + LIBRARY_ROOT.length + 1);
}

/**
 * A captured call stack, formatted on first read. V8 keeps the frames in structured form until
 * `.stack` is read; formatting is most of the cost, and most captured stacks are never shown.
 */
export class CapturedStack {
  #holder: { stack?: string } | null;
  #text: string | undefined = undefined;

  constructor(holder: { stack?: string }) {
    this.#holder = holder;
  }

  get text(): string {
    if (this.#text === undefined) {
      const raw = this.#holder?.stack ?? '';
      this.#holder = null;
      this.#text = raw
        .split('\n')
        .slice(1)
        .filter((line) => !isLibraryFrame(line))
        .map((line) => line.trim())
        .join('\n');
    }
    return this.#text;
  }
}

/**
 * Captures the caller's stack, cut above `above` (the public API function the user called), so
 * that a report starts at user code. Pass `undefined` where the public function is no longer on
 * the stack (after an await inside the library): library frames are filtered out anyway.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function captureStack(above: Function | undefined): CapturedStack {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(holder, above);
  Error.stackTraceLimit = limit;
  return new CapturedStack(holder);
}

/** Indents a captured stack for a report. */
export function indentStack(stack: string | undefined, indent: string, missing: string): string {
  if (stack === undefined || stack === '') return `${indent}${missing}`;
  return stack
    .split('\n')
    .slice(0, 8)
    .map((line) => `${indent}${line}`)
    .join('\n');
}
