import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  isAtomicTempName,
  removeAtomicTempDebris,
  renameWithRetry,
  renameWithRetrySync,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src/fs/write-file-atomic.js';
import { rejectionOf } from '../support/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const writerFixture = fileURLToPath(new URL('./fixtures/wfa-writer.ts', import.meta.url));

let base = '';
let unique = 0;
/** A fresh, empty directory for one test. */
function freshDir(): string {
  unique += 1;
  const dir = join(base, `t${unique}`);
  fs.mkdirSync(dir);
  return dir;
}

const tempsIn = (dir: string): string[] => fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));
const modeOf = (file: string): number => fs.statSync(file).mode & 0o7777;
const errnoError = (code: string, message = code): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

/** A pid that belonged to a process which has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(child.stdout);
  assert.ok(Number.isInteger(pid) && pid > 0, `child printed no pid: ${child.stdout} ${child.stderr}`);
  return pid;
}

before(() => {
  base = fs.mkdtempSync(join(tmpdir(), 'deadbolt-wfa-'));
});

after(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates a file, then replaces it whole, leaving no temp file', async () => {
    const dir = freshDir();
    const file = join(dir, 'state.json');
    await writeFileAtomic(file, '{"v":1}');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"v":1}');
    await writeFileAtomic(file, 'short');
    assert.equal(fs.readFileSync(file, 'utf8'), 'short');
    await writeFileAtomic(file, '');
    assert.equal(fs.readFileSync(file, 'utf8'), '');
    assert.deepEqual(fs.readdirSync(dir), ['state.json']);
  });

  it('encodes strings with the given encoding, utf8 by default', async () => {
    const dir = freshDir();
    const file = join(dir, 'text');
    await writeFileAtomic(file, 'héllo ✓');
    assert.deepEqual(fs.readFileSync(file), Buffer.from('héllo ✓', 'utf8'));
    await writeFileAtomic(file, 'héllo', { encoding: 'latin1' });
    assert.deepEqual(fs.readFileSync(file), Buffer.from([0x68, 0xe9, 0x6c, 0x6c, 0x6f]));
    await writeFileAtomic(file, 'deadbeef', { encoding: 'hex' });
    assert.deepEqual(fs.readFileSync(file), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await writeFileAtomic(file, 'aGk=', { encoding: 'base64' });
    assert.equal(fs.readFileSync(file, 'utf8'), 'hi');
  });

  it('writes a Uint8Array (and a view into a larger buffer) byte for byte', async () => {
    const dir = freshDir();
    const file = join(dir, 'bytes');
    const bytes = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) % 256);
    await writeFileAtomic(file, bytes);
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), bytes);
    const view = new Uint8Array(bytes.buffer, 5, 10);
    await writeFileAtomic(file, view);
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), view);
  });

  it('gives a new file the mode fs.writeFile would, and applies a given mode exactly', async () => {
    const dir = freshDir();
    fs.writeFileSync(join(dir, 'reference'), 'x');
    await writeFileAtomic(join(dir, 'plain'), 'x');
    assert.equal(modeOf(join(dir, 'plain')), modeOf(join(dir, 'reference')));
    await writeFileAtomic(join(dir, 'secret'), 'x', { mode: 0o600 });
    assert.equal(modeOf(join(dir, 'secret')), 0o600);
    // 0o666 survives even though the umask (usually 022) would strip group/other write bits
    await writeFileAtomic(join(dir, 'wide'), 'x', { mode: 0o666 });
    assert.equal(modeOf(join(dir, 'wide')), 0o666);
  });

  it('keeps the mode of an existing file unless a mode is given', async () => {
    const dir = freshDir();
    const file = join(dir, 'kept');
    fs.writeFileSync(file, 'old');
    fs.chmodSync(file, 0o640);
    await writeFileAtomic(file, 'new');
    assert.equal(modeOf(file), 0o640);
    fs.chmodSync(file, 0o666);
    await writeFileAtomic(file, 'newer');
    assert.equal(modeOf(file), 0o666);
    await writeFileAtomic(file, 'newest', { mode: 0o600 });
    assert.equal(modeOf(file), 0o600);
    assert.equal(fs.readFileSync(file, 'utf8'), 'newest');
  });

  it('writes through a symlink and keeps the link, also a relative or dangling one', async () => {
    const dir = freshDir();
    fs.mkdirSync(join(dir, 'real'));
    const real = join(dir, 'real', 'data');
    fs.writeFileSync(real, 'old');
    const link = join(dir, 'link');
    fs.symlinkSync(real, link);
    await writeFileAtomic(link, 'via link');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readFileSync(real, 'utf8'), 'via link');
    assert.deepEqual(tempsIn(dir), []);
    assert.deepEqual(fs.readdirSync(join(dir, 'real')), ['data']);

    const relative = join(dir, 'relative');
    fs.symlinkSync('real/data', relative);
    await writeFileAtomic(relative, 'via relative');
    assert.ok(fs.lstatSync(relative).isSymbolicLink());
    assert.equal(fs.readFileSync(real, 'utf8'), 'via relative');

    const dangling = join(dir, 'dangling');
    fs.symlinkSync(join(dir, 'real', 'later'), dangling);
    await writeFileAtomic(dangling, 'created');
    assert.ok(fs.lstatSync(dangling).isSymbolicLink());
    assert.equal(fs.readFileSync(join(dir, 'real', 'later'), 'utf8'), 'created');
  });

  it('50 concurrent writers to one path: each resolves, the file is exactly one of them, no temp left', async () => {
    const dir = freshDir();
    const file = join(dir, 'contended');
    const payloads = Array.from({ length: 50 }, (_, i) => `writer ${i} `.repeat(1000 + i));
    await Promise.all(payloads.map((payload) => writeFileAtomic(file, payload)));
    assert.ok(payloads.includes(fs.readFileSync(file, 'utf8')));
    assert.deepEqual(fs.readdirSync(dir), ['contended']);
  });

  it('writers in 4 processes: readers only ever see a whole payload, and the end is one of them', { timeout: 60_000 }, async () => {
    const dir = freshDir();
    const file = join(dir, 'shared');
    const size = 256 * 1024;
    const payloadOf = (id: string): string => `${id}:`.padEnd(size, id);
    fs.writeFileSync(file, payloadOf('0'));
    const ids = ['a', 'b', 'c', 'd'];
    const children = ids.map((id) =>
      spawn(process.execPath, ['--import', 'tsx', writerFixture, file, id, '25', String(size)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const lines = (child: (typeof children)[number], wanted: string): Promise<void> =>
      new Promise((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.split('\n').includes(wanted)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`writer exited with ${code} before printing ${wanted}; stdout: ${out}`)));
      });
    const exits = children.map((child) => new Promise<number | null>((resolve) => child.once('exit', resolve)));
    const seen = new Set<string>();
    try {
      await Promise.all(children.map((child) => lines(child, 'ready')));
      const done = Promise.all(children.map((child) => lines(child, 'done')));
      // ending stdin is the start signal, and lets each writer exit when it is done
      for (const child of children) child.stdin?.end('go\n');

      const valid = new Set(['0', ...ids].map(payloadOf));
      let finished = false;
      void done.then(() => (finished = true), () => (finished = true));
      while (!finished) {
        const content = fs.readFileSync(file, 'utf8');
        assert.ok(valid.has(content), `a reader saw a torn or partial file (${content.length} bytes, starts ${JSON.stringify(content.slice(0, 8))})`);
        seen.add(content[0] ?? '');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await done;
      assert.deepEqual(await Promise.all(exits), [0, 0, 0, 0]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }
    // the reads overlapped the writes (not just before and after them)
    assert.ok(seen.size >= 2, `reads saw only ${[...seen].join()}`);
    const final = fs.readFileSync(file, 'utf8');
    assert.ok(ids.map(payloadOf).includes(final), 'the final content is one written payload');
    assert.deepEqual(fs.readdirSync(dir), ['shared']);
  });

  it('a failed rename (target is a directory) rejects with EISDIR and leaves no temp file', async () => {
    const dir = freshDir();
    const target = join(dir, 'occupied');
    fs.mkdirSync(target);
    const error = (await rejectionOf(writeFileAtomic(target, 'data'))) as NodeJS.ErrnoException;
    assert.equal(error.code, 'EISDIR');
    assert.equal(error.syscall, 'rename');
    // the temp file was real: beside the target, named for it and for this process
    assert.ok(typeof error.path === 'string' && isAtomicTempName(error.path, 'occupied'), String(error.path));
    assert.ok(error.path.startsWith(join(dir, `.occupied.${process.pid}.`)));
    assert.equal(fs.existsSync(error.path), false);
    assert.deepEqual(fs.readdirSync(dir), ['occupied']);
    assert.ok(fs.statSync(target).isDirectory());
  });

  it('a missing parent directory rejects with ENOENT naming the target path', async () => {
    const dir = freshDir();
    const target = join(dir, 'missing', 'file.json');
    const error = (await rejectionOf(writeFileAtomic(target, 'data'))) as NodeJS.ErrnoException;
    assert.ok(error instanceof Error);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.syscall, 'open');
    assert.ok(error.message.includes(target), error.message);
    assert.ok(error.stack?.includes(target));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('rejects bad input with a TypeError that names the argument, and writes nothing', async () => {
    const dir = freshDir();
    const file = join(dir, 'f');
    const cases: [() => Promise<void>, RegExp][] = [
      [() => writeFileAtomic(42 as unknown as string, 'x'), /path/],
      [() => writeFileAtomic('', 'x'), /path/],
      [() => writeFileAtomic(file, 42 as unknown as string), /data/],
      [() => writeFileAtomic(file, null as unknown as string), /data/],
      [() => writeFileAtomic(file, 'x', 'utf8' as unknown as object), /options/],
      [() => writeFileAtomic(file, 'x', { mode: -1 }), /options\.mode/],
      [() => writeFileAtomic(file, 'x', { mode: 0o10000 }), /options\.mode/],
      [() => writeFileAtomic(file, 'x', { mode: '644' as unknown as number }), /options\.mode/],
      [() => writeFileAtomic(file, 'x', { encoding: 'klingon' as BufferEncoding }), /options\.encoding/],
      [() => writeFileAtomic(file, 'x', { fsync: 'yes' as unknown as boolean }), /options\.fsync/],
      [() => writeFileAtomic(file, 'x', { signal: {} as AbortSignal }), /options\.signal/],
    ];
    for (const [call, name] of cases) {
      const error = await rejectionOf(call());
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, name);
      assert.match(error.message, /^writeFileAtomic: /);
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('fsync: false still replaces the file whole', async () => {
    const dir = freshDir();
    const file = join(dir, 'cache');
    fs.writeFileSync(file, 'old');
    await writeFileAtomic(file, 'new', { fsync: false });
    assert.equal(fs.readFileSync(file, 'utf8'), 'new');
    assert.deepEqual(fs.readdirSync(dir), ['cache']);
  });
});

describe('writeFileAtomic with an AbortSignal', () => {
  it('an already aborted signal rejects with its reason and touches nothing', async () => {
    const dir = freshDir();
    const file = join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const reason = new Error('stop');
    const error = await rejectionOf(writeFileAtomic(file, 'new', { signal: AbortSignal.abort(reason) }));
    assert.equal(error, reason);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['f']);
  });

  it('an abort right after the call rejects with the reason; the target is unchanged', async () => {
    const dir = freshDir();
    const file = join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const controller = new AbortController();
    const writing = writeFileAtomic(file, 'new', { signal: controller.signal });
    controller.abort('cancelled');
    assert.equal(await rejectionOf(writing), 'cancelled');
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['f']);
  });

  it('an abort while the temp file is being written removes it and keeps the old target', async () => {
    const dir = freshDir();
    const file = join(dir, 'big');
    fs.writeFileSync(file, 'old');
    const controller = new AbortController();
    const reason = new Error('abort mid-write');
    let settled = false;
    const writing = writeFileAtomic(file, Buffer.alloc(64 * 1024 * 1024, 7), { signal: controller.signal });
    writing.then(() => (settled = true), () => (settled = true));
    // wait until the temp file exists, so the abort lands during the write, not before it
    while (tempsIn(dir).length === 0) {
      assert.equal(settled, false, 'the write settled before its temp file was seen');
      await new Promise((resolve) => setImmediate(resolve));
    }
    controller.abort(reason);
    assert.equal(await rejectionOf(writing), reason);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['big']);
  });

  it('an abort after the write resolved changes nothing', async () => {
    const dir = freshDir();
    const file = join(dir, 'f');
    const controller = new AbortController();
    await writeFileAtomic(file, 'new', { signal: controller.signal });
    controller.abort();
    assert.equal(fs.readFileSync(file, 'utf8'), 'new');
  });
});

describe('writeFileAtomicSync', () => {
  it('writes, replaces, keeps or sets the mode, and follows a symlink', () => {
    const dir = freshDir();
    const file = join(dir, 'sync');
    writeFileAtomicSync(file, 'one');
    assert.equal(fs.readFileSync(file, 'utf8'), 'one');
    // modes the umask (usually 022) would narrow: only an explicit chmod keeps them
    fs.chmodSync(file, 0o666);
    writeFileAtomicSync(file, Buffer.from('two'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    assert.equal(modeOf(file), 0o666);
    writeFileAtomicSync(file, '74687265', { encoding: 'hex', mode: 0o622 });
    assert.equal(fs.readFileSync(file, 'utf8'), 'thre');
    assert.equal(modeOf(file), 0o622);
    const link = join(dir, 'link');
    fs.symlinkSync(file, link);
    writeFileAtomicSync(link, 'four', { fsync: false });
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readFileSync(file, 'utf8'), 'four');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['link', 'sync']);
  });

  it('a failed rename throws EISDIR and leaves no temp file', () => {
    const dir = freshDir();
    const target = join(dir, 'occupied');
    fs.mkdirSync(target);
    assert.throws(() => writeFileAtomicSync(target, 'data'), (error: NodeJS.ErrnoException) => error.code === 'EISDIR' && error.syscall === 'rename');
    assert.deepEqual(fs.readdirSync(dir), ['occupied']);
  });

  it('a missing parent throws ENOENT naming the target; bad input and an aborted signal throw', () => {
    const dir = freshDir();
    const target = join(dir, 'missing', 'f');
    assert.throws(() => writeFileAtomicSync(target, 'x'), (error: NodeJS.ErrnoException) => error.code === 'ENOENT' && error.message.includes(target));
    assert.throws(() => writeFileAtomicSync(join(dir, 'f'), 1 as unknown as string), /^TypeError: writeFileAtomicSync: data/);
    assert.throws(() => writeFileAtomicSync(join(dir, 'f'), 'x', { mode: 1.5 }), /^TypeError: writeFileAtomicSync: options\.mode/);
    const reason = new Error('aborted');
    assert.throws(() => writeFileAtomicSync(join(dir, 'f'), 'x', { signal: AbortSignal.abort(reason) }), (error) => error === reason);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe('renameWithRetry (the win32 retry, with a fake rename)', () => {
  it('on win32, retries EPERM with growing delays until the rename succeeds', async () => {
    let calls = 0;
    const waits: number[] = [];
    await renameWithRetry('from', 'to', 'win32', async (from, to) => {
      calls += 1;
      assert.deepEqual([from, to], ['from', 'to']);
      if (calls <= 3) throw errnoError('EPERM');
    }, async (ms) => waits.push(ms));
    assert.equal(calls, 4);
    assert.deepEqual(waits, [10, 20, 40]);
  });

  it('on win32, gives up after ~10 s of waiting and rejects with the last error', async () => {
    let calls = 0;
    const waits: number[] = [];
    const thrown: Error[] = [];
    const error = await rejectionOf(renameWithRetry('from', 'to', 'win32', async () => {
      calls += 1;
      const failure = errnoError(['EPERM', 'EACCES', 'EBUSY'][calls % 3] ?? 'EPERM', `attempt ${calls}`);
      thrown.push(failure);
      throw failure;
    }, async (ms) => waits.push(ms)));
    assert.equal(error, thrown.at(-1));
    assert.equal(calls, waits.length + 1);
    assert.ok(calls < 30, `${calls} attempts`);
    assert.equal(waits.reduce((sum, ms) => sum + ms, 0), 10_000);
    assert.ok(waits.every((ms) => ms > 0 && ms <= 1_000));
  });

  it('does not retry other errors on win32, nor anything elsewhere', async () => {
    for (const [platform, failure] of [['win32', 'ENOENT'], ['linux', 'EPERM'], ['darwin', 'EBUSY']] as const) {
      let calls = 0;
      const error = errnoError(failure);
      const waits: number[] = [];
      assert.equal(await rejectionOf(renameWithRetry('a', 'b', platform, async () => {
        calls += 1;
        throw error;
      }, async (ms) => waits.push(ms))), error);
      assert.equal(calls, 1, `${platform} ${failure}`);
      assert.deepEqual(waits, []);
    }
  });

  it('the sync twin retries the same way', () => {
    let calls = 0;
    const waits: number[] = [];
    renameWithRetrySync('a', 'b', 'win32', () => {
      calls += 1;
      if (calls <= 3) throw errnoError('EBUSY');
    }, (ms) => waits.push(ms));
    assert.deepEqual([calls, waits], [4, [10, 20, 40]]);
    const last = errnoError('EACCES', 'forever');
    assert.throws(() => renameWithRetrySync('a', 'b', 'win32', () => {
      throw last;
    }, () => undefined), (error) => error === last);
  });

  it('renames for real with the defaults', async () => {
    const dir = freshDir();
    fs.writeFileSync(join(dir, 'a'), 'moved');
    await renameWithRetry(join(dir, 'a'), join(dir, 'b'));
    assert.deepEqual(fs.readdirSync(dir), ['b']);
  });
});

describe('isAtomicTempName', () => {
  it('matches the names this module creates, for any target or for one', () => {
    assert.equal(isAtomicTempName('.state.json.4242.0123456789ab.tmp'), true);
    assert.equal(isAtomicTempName('.state.json.4242.0123456789ab.tmp', 'state.json'), true);
    assert.equal(isAtomicTempName('.state.json.4242.0123456789ab.tmp', 'state'), false);
    assert.equal(isAtomicTempName('/some/dir/.a.b.1.abcdefabcdef.tmp', 'a.b'), true);
    assert.equal(isAtomicTempName('state.json'), false);
    assert.equal(isAtomicTempName('.state.json.tmp'), false);
    assert.equal(isAtomicTempName('.state.json.x42.0123456789ab.tmp'), false);
    assert.equal(isAtomicTempName('.state.json.0.0123456789ab.tmp'), false);
    assert.equal(isAtomicTempName('.state.json.42.0123456789AB.tmp'), false);
    assert.equal(isAtomicTempName('.state.json.42.0123456789a.tmp'), false);
    assert.throws(() => isAtomicTempName(7 as unknown as string), TypeError);
  });

  it('matches a temp file a real failed write created', async () => {
    const dir = freshDir();
    fs.mkdirSync(join(dir, 'x.y'));
    const error = (await rejectionOf(writeFileAtomic(join(dir, 'x.y'), 'z'))) as NodeJS.ErrnoException;
    assert.ok(isAtomicTempName(String(error.path), 'x.y'), String(error.path));
    assert.equal(isAtomicTempName(String(error.path), 'x'), false);
  });
});

describe('removeAtomicTempDebris', () => {
  const tempName = (target: string, pid: number, hex = 'abcdef012345'): string => `.${target}.${pid}.${hex}.tmp`;

  it('removes the temp file of a dead pid, keeps live writers and other files', async () => {
    const dir = freshDir();
    const dead = deadPid();
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      assert.ok(live.pid !== undefined);
      const target = join(dir, 'data.json');
      fs.writeFileSync(target, 'keep');
      const names = {
        dead: tempName('data.json', dead),
        self: tempName('data.json', process.pid),
        live: tempName('data.json', live.pid),
        otherTarget: tempName('other.json', dead),
      };
      for (const name of Object.values(names)) fs.writeFileSync(join(dir, name), 'debris');
      fs.writeFileSync(join(dir, 'notes.tmp'), 'not ours');

      assert.deepEqual(await removeAtomicTempDebris(target), [join(dir, names.dead)]);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['data.json', 'notes.tmp', names.otherTarget, names.live, names.self].sort());

      // the whole directory: every target's debris
      assert.deepEqual(await removeAtomicTempDebris(dir), [join(dir, names.otherTarget)]);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['data.json', 'notes.tmp', names.live, names.self].sort());
      assert.deepEqual(await removeAtomicTempDebris(dir), []);
    } finally {
      live.kill();
    }
  });

  it('removes live writers\' temp files by age only when olderThanMs says so', async () => {
    const dir = freshDir();
    const old = join(dir, tempName('f', process.pid, '000000000001'));
    const recent = join(dir, tempName('f', process.pid, '000000000002'));
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(recent, 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(old, hourAgo, hourAgo);
    assert.deepEqual(await removeAtomicTempDebris(join(dir, 'f')), []);
    assert.deepEqual(await removeAtomicTempDebris(join(dir, 'f'), { olderThanMs: 60_000 }), [old]);
    assert.deepEqual(fs.readdirSync(dir), [tempName('f', process.pid, '000000000002')]);
  });

  it('finds the debris of a symlinked target beside the real file; a missing directory has none', async () => {
    const dir = freshDir();
    fs.mkdirSync(join(dir, 'real'));
    fs.writeFileSync(join(dir, 'real', 'file'), 'x');
    fs.symlinkSync(join(dir, 'real', 'file'), join(dir, 'link'));
    const debris = join(dir, 'real', tempName('file', deadPid()));
    fs.writeFileSync(debris, 'x');
    assert.deepEqual(await removeAtomicTempDebris(join(dir, 'link')), [debris]);
    assert.deepEqual(await removeAtomicTempDebris(join(dir, 'nowhere', 'file')), []);
    await assert.rejects(removeAtomicTempDebris(dir, { olderThanMs: -1 }), /olderThanMs/);
    await assert.rejects(removeAtomicTempDebris(3 as unknown as string), TypeError);
  });
});
