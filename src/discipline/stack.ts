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
 * Captures the caller's stack, cut above `above` (the public API function the user called), so
 * that a report starts at user code. Costs about 1 µs, so it is only called on slow paths.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function captureStack(above: Function | undefined): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(holder, above);
  // `above` is no longer on the stack after an await inside the library: take the whole stack.
  if (above !== undefined && !holder.stack?.includes('\n')) Error.captureStackTrace(holder, captureStack);
  Error.stackTraceLimit = limit;
  const text = holder.stack ?? '';
  const lines = text.split('\n').slice(1).filter((line) => !isLibraryFrame(line));
  return lines.map((line) => line.trim()).join('\n');
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
