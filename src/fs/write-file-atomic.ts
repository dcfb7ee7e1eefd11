import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { lstat, open, readdir, readlink, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isAlive, thisProcess } from './process-info.js';

/** Options of {@link writeFileAtomic} and {@link writeFileAtomicSync}. */
export interface WriteFileAtomicOptions {
  /**
   * Mode of the file, applied exactly (not filtered by the umask). Without it an existing target
   * keeps its mode, and a new file gets `0o666 & ~umask`, as `fs.writeFile` would give it.
   */
  readonly mode?: number;
  /** Encoding when data is a string (default 'utf8'). */
  readonly encoding?: BufferEncoding;
  /**
   * fsync the file and its directory (default true). `false` keeps the write atomic for readers,
   * but not durable: after a power loss or OS crash the file may hold the old data, or be empty.
   */
  readonly fsync?: boolean;
  /** Aborting before the rename cancels the write and removes the temp file; rejects with signal.reason. */
  readonly signal?: AbortSignal;
}

// `.<target basename>.<pid>.<12 hex>.tmp`: the pid lets clean-up tell a dead writer's debris
// from a live writer's work; the random part keeps writers of one pid apart.
const TEMP_NAME = /^\.(.+)\.([1-9]\d*)\.[0-9a-f]{12}\.tmp$/;
const MAX_TEMP_ATTEMPTS = 8;
// Written in slices so an abort is seen during a large write, not only after it.
const CHUNK = 1 << 20;
const WIN_RENAME_BUSY = new Set(['EPERM', 'EACCES', 'EBUSY']);
const WIN_NO_DIR_SYNC = new Set(['EPERM', 'EISDIR', 'EINVAL', 'EACCES']);

/**
 * Replaces the file at `path` with `data` so that readers (and a crash) see either the old or
 * the new content, never a mix: the data goes to an exclusive temp file beside the target, which
 * is fsynced, renamed over the target, and then the directory is fsynced so the rename itself
 * survives a crash (the npm `write-file-atomic` skips that last step).
 *
 * - On failure the temp file is removed and the original error is rethrown; the target is untouched.
 * - A symlink target is followed, so the link stays and the file it points to is replaced.
 * - Concurrent writers never share a temp file; the last rename wins, whole.
 * - Aborting before the rename rejects with `signal.reason`; an abort after it is ignored.
 * - Don't modify a Uint8Array `data` until the promise settles: it is not copied.
 *
 * @example
 * await writeFileAtomic('state.json', JSON.stringify(state), { mode: 0o600 });
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options?: WriteFileAtomicOptions): Promise<void> {
  const { bytes, fsync, signal, ...given } = parse('writeFileAtomic', path, data, options);
  signal?.throwIfAborted();
  const target = await resolveTarget(path);
  const mode = given.mode ?? permissions(await stat(target).catch(unlessMissing));
  signal?.throwIfAborted();
  const [handle, temp] = await openTemp(target, mode, path);
  try {
    try {
      if (mode !== undefined) await handle.chmod(mode);
      for (let at = 0; at < bytes.length; ) {
        signal?.throwIfAborted();
        at += (await handle.write(bytes, at, Math.min(CHUNK, bytes.length - at))).bytesWritten;
      }
      if (fsync) await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    await handle.close();
    signal?.throwIfAborted();
    await renameWithRetry(temp, target);
  } catch (error) {
    // Best effort: the caller needs the original error, not one about the clean-up.
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (fsync) await syncDirectory(dirname(target), path);
}

/**
 * The synchronous twin of {@link writeFileAtomic}, with the same guarantees. An abort signal is
 * only checked on entry; on Windows a busy target blocks the thread for up to ~10 s of retries.
 *
 * @example
 * writeFileAtomicSync('/etc/app/config.json', text, { encoding: 'utf8' });
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options?: WriteFileAtomicOptions): void {
  const { bytes, fsync, signal, ...given } = parse('writeFileAtomicSync', path, data, options);
  signal?.throwIfAborted();
  const target = resolveTargetSync(path);
  const mode = given.mode ?? permissions(fs.statSync(target, { throwIfNoEntry: false }));
  let fd: number | undefined;
  let temp = '';
  for (let attempt = 1; fd === undefined; attempt++) {
    temp = tempPath(target);
    try {
      fd = fs.openSync(temp, 'wx', mode ?? 0o666);
    } catch (error) {
      if (code(error) !== 'EEXIST' || attempt >= MAX_TEMP_ATTEMPTS) throw annotate(error, `writeFileAtomicSync: cannot create a temp file beside ${path}`);
    }
  }
  try {
    try {
      if (mode !== undefined) fs.fchmodSync(fd, mode);
      for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, Math.min(CHUNK, bytes.length - at));
      if (fsync) fs.fsyncSync(fd);
    } catch (error) {
      try { fs.closeSync(fd); } catch { /* the write error is the one to report */ }
      throw error;
    }
    fs.closeSync(fd);
    renameWithRetrySync(temp, target);
  } catch (error) {
    try { fs.unlinkSync(temp); } catch { /* best effort, as in writeFileAtomic */ }
    throw error;
  }
  if (fsync) syncDirectorySync(dirname(target), path);
}

/**
 * Whether `fileName` (a name or a path) is a temp file of this module, optionally one made for
 * the target named `targetBaseName`. Clean-up code uses it to skip or collect in-flight writes.
 *
 * @example
 * isAtomicTempName('.state.json.4242.0123456789ab.tmp', 'state.json'); // true
 */
export function isAtomicTempName(fileName: string, targetBaseName?: string): boolean {
  if (typeof fileName !== 'string') throw new TypeError(`isAtomicTempName: fileName must be a string, got ${typeof fileName}`);
  if (targetBaseName !== undefined && typeof targetBaseName !== 'string') throw new TypeError('isAtomicTempName: targetBaseName must be a string');
  const match = TEMP_NAME.exec(basename(fileName));
  return match !== null && (targetBaseName === undefined || match[1] === targetBaseName);
}

/**
 * Removes the temp files that writers which died left for the target `pathOrDir` (or for every
 * target in it, when it is a directory), and returns their paths. A temp file is removed only if
 * its pid is not alive on this host (`process.kill(pid, 0)` fails with ESRCH), or if it was last
 * written more than `olderThanMs` ago (default: never by age). A pid means something only on
 * this host and in this pid namespace: a writer on another machine or in another container can
 * look dead from here, so don't run this on a directory such writers share. A missing directory
 * has no debris: resolves `[]`.
 *
 * @example
 * const removed = await removeAtomicTempDebris(dataDir, { olderThanMs: 3_600_000 });
 */
export async function removeAtomicTempDebris(pathOrDir: string, options?: { olderThanMs?: number }): Promise<string[]> {
  if (typeof pathOrDir !== 'string' || pathOrDir === '') throw new TypeError(`removeAtomicTempDebris: pathOrDir must be a non-empty string, got ${String(pathOrDir)}`);
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError('removeAtomicTempDebris: options must be an object');
  const olderThanMs = options?.olderThanMs;
  if (olderThanMs !== undefined && (typeof olderThanMs !== 'number' || !(olderThanMs >= 0))) {
    throw new TypeError(`removeAtomicTempDebris: options.olderThanMs must be a number >= 0, got ${String(olderThanMs)}`);
  }
  const isDir = (await stat(pathOrDir).catch(unlessMissing))?.isDirectory() === true;
  const target = isDir ? undefined : await resolveTarget(pathOrDir);
  const dir = target === undefined ? pathOrDir : dirname(target);
  const removed: string[] = [];
  for (const name of (await readdir(dir).catch(unlessMissing)) ?? []) {
    const match = TEMP_NAME.exec(name);
    if (match === null || (target !== undefined && match[1] !== basename(target))) continue;
    const file = join(dir, name);
    const info = await lstat(file).catch(unlessMissing);
    if (!info?.isFile()) continue;
    const stale = !isAlive({ pid: Number(match[2]), host: thisProcess().host }) || (olderThanMs !== undefined && Date.now() - info.mtimeMs > olderThanMs);
    if (!stale) continue;
    if ((await unlink(file).then(() => true, unlessMissing)) === true) removed.push(file);
  }
  return removed;
}

/**
 * @internal Renames, retrying on win32 while another process holds the target open (EPERM,
 * EACCES, EBUSY: antivirus, indexers, editors), with backoff from 10 ms up to ~10 s in all.
 * `platform`, `renameFn` and `sleep` are injectable so the retry is testable off Windows.
 */
export async function renameWithRetry(
  from: string, to: string, platform: NodeJS.Platform = process.platform,
  renameFn: (from: string, to: string) => Promise<void> = rename, sleep: (ms: number) => Promise<unknown> = delay,
): Promise<void> {
  const delays = renameDelays();
  for (;;) {
    try {
      return await renameFn(from, to);
    } catch (error) {
      await sleep(nextDelay(error, platform, delays));
    }
  }
}

/** @internal The synchronous {@link renameWithRetry}; it blocks the thread while it waits. */
export function renameWithRetrySync(
  from: string, to: string, platform: NodeJS.Platform = process.platform,
  renameFn: (from: string, to: string) => void = fs.renameSync, sleep: (ms: number) => void = sleepSync,
): void {
  const delays = renameDelays();
  for (;;) {
    try {
      return renameFn(from, to);
    } catch (error) {
      sleep(nextDelay(error, platform, delays));
    }
  }
}

function* renameDelays(budgetMs = 10_000): Generator<number, void> {
  for (let waited = 0, next = 10; waited < budgetMs; waited += next, next = Math.min(next * 2, 1_000)) yield Math.min(next, budgetMs - waited);
}

/** The wait before the next rename attempt; rethrows `error` when it is final. */
function nextDelay(error: unknown, platform: NodeJS.Platform, delays: Generator<number, void>): number {
  const next = platform === 'win32' && WIN_RENAME_BUSY.has(code(error)) ? delays.next() : undefined;
  if (next === undefined || next.done === true) throw error;
  return next.value;
}

function parse(where: string, path: unknown, data: unknown, options: WriteFileAtomicOptions | undefined) {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${where}: path must be a non-empty string, got ${typeof path === 'string' ? 'an empty string' : typeof path}`);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError(`${where}: data must be a string or a Uint8Array, got ${data === null ? 'null' : typeof data}`);
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError(`${where}: options must be an object, got ${String(options)}`);
  const { mode, encoding = 'utf8', fsync = true, signal } = options ?? {};
  if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777)) throw new TypeError(`${where}: options.mode must be an integer from 0 to 0o7777, got ${String(mode)}`);
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) throw new TypeError(`${where}: options.encoding must be a Buffer encoding, got ${String(encoding)}`);
  if (typeof fsync !== 'boolean') throw new TypeError(`${where}: options.fsync must be a boolean, got ${String(fsync)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${where}: options.signal must be an AbortSignal`);
  return { bytes: typeof data === 'string' ? Buffer.from(data, encoding) : data, mode, fsync, signal };
}

// A dangling symlink is followed too: replacing it would silently turn the link into a file.
async function resolveTarget(path: string, hops = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw error;
  }
  const link = await lstat(path).catch(unlessMissing);
  return link?.isSymbolicLink() && hops < 40 ? resolveTarget(resolve(dirname(path), await readlink(path)), hops + 1) : path;
}

function resolveTargetSync(path: string, hops = 0): string {
  try {
    return fs.realpathSync(path);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw error;
  }
  const link = fs.lstatSync(path, { throwIfNoEntry: false });
  return link?.isSymbolicLink() && hops < 40 ? resolveTargetSync(resolve(dirname(path), fs.readlinkSync(path)), hops + 1) : path;
}

function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

// Created with the final mode (never wider, the umask only narrows it) so that no other user can
// open the temp file in the moment before the exact mode is set.
async function openTemp(target: string, mode: number | undefined, path: string): Promise<[FileHandle, string]> {
  for (let attempt = 1; ; attempt++) {
    const temp = tempPath(target);
    try {
      return [await open(temp, 'wx', mode ?? 0o666), temp];
    } catch (error) {
      if (code(error) !== 'EEXIST' || attempt >= MAX_TEMP_ATTEMPTS) throw annotate(error, `writeFileAtomic: cannot create a temp file beside ${path}`);
    }
  }
}

// Windows cannot open or flush a directory; there NTFS journals the rename itself.
async function syncDirectory(dir: string, path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    dirSyncFailed(error, 'writeFileAtomic', path);
  } finally {
    await handle?.close();
  }
}

function syncDirectorySync(dir: string, path: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (error) {
    dirSyncFailed(error, 'writeFileAtomicSync', path);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function dirSyncFailed(error: unknown, where: string, path: string): void {
  if (!(process.platform === 'win32' && WIN_NO_DIR_SYNC.has(code(error)))) throw annotate(error, `${where}: ${path} was replaced, but its directory could not be fsynced`);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function permissions(info: fs.Stats | undefined): number | undefined {
  return info === undefined ? undefined : info.mode & 0o7777;
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? '';
}

function unlessMissing(error: unknown): undefined {
  if (code(error) === 'ENOENT') return undefined;
  throw error;
}

// Keeps `code`, `errno`, `syscall` and `path`; only the message (and the stack's copy of it) grows.
function annotate(error: unknown, context: string): unknown {
  if (error instanceof Error) {
    const original = error.message;
    error.message = `${context}: ${original}`;
    if (error.stack !== undefined) error.stack = error.stack.replace(original, error.message);
  }
  return error;
}
