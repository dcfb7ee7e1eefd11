/*
 * A hand-built AuditResult with one finding of every shape the reporters must render: an
 * inversion with two paths and related sites, a reentrant acquisition with one path, a plain
 * warning and a note, plus inventory rows and a skipped file. Paths have a space and a pipe in
 * them on purpose (URI encoding, markdown escaping).
 */
import type { AuditResult, Finding, LockInventoryRow } from '../../../src/audit/types.js';

export const ROOT = '/repo/app';

export const inversion: Finding = {
  ruleId: 'lock-order-inversion',
  severity: 'error',
  message: 'Store.a and Store.b are taken in opposite orders',
  explanation: 'Path 1 takes Store.a then Store.b; path 2 takes Store.b then Store.a. Run together they deadlock.',
  fix: 'Take Store.a before Store.b everywhere, or use lockAll.',
  location: { file: 'src/store.ts', line: 40, column: 11, endLine: 40, endColumn: 30 },
  related: [
    { file: 'src/store.ts', line: 12, column: 5, message: 'Store.a acquired first here' },
    { file: 'src/other dir/sync.ts', line: 8, column: 3, message: 'the other order starts here' },
  ],
  paths: [
    [
      { file: 'src/store.ts', line: 12, column: 5, message: 'acquire Store.a' },
      { file: 'src/store.ts', line: 14, column: 5, message: 'call flush()' },
      { file: 'src/store.ts', line: 40, column: 11, message: 'acquire Store.b while holding Store.a' },
    ],
    [
      { file: 'src/other dir/sync.ts', line: 8, column: 3, message: 'acquire Store.b' },
      { file: 'src/other dir/sync.ts', line: 9, column: 3, message: 'acquire Store.a while holding Store.b' },
    ],
  ],
  locks: ['src/store.ts#Store.a', 'src/store.ts#Store.b'],
  fingerprint: 'lock-order-inversion:src/store.ts:Store.a>Store.b:flush|sync',
};

export const reentrant: Finding = {
  ruleId: 'reentrant-acquire',
  severity: 'error',
  message: 'Store.a is requested while already held (through save())',
  explanation: 'Mutex is not reentrant: the second request waits for the first, which waits for it.',
  fix: 'Call an unlocked internal method from inside the lock.',
  location: { file: 'src/store.ts', line: 22, column: 7 },
  related: [],
  paths: [
    [
      { file: 'src/store.ts', line: 20, column: 5, message: 'acquire Store.a in update()' },
      { file: 'src/store.ts', line: 22, column: 7, message: 'save() acquires Store.a again' },
    ],
  ],
  locks: ['src/store.ts#Store.a'],
  fingerprint: 'reentrant-acquire:src/store.ts:Store.a:update>save',
};

export const blocking: Finding = {
  ruleId: 'blocking-under-lock',
  severity: 'warning',
  message: 'readFileSync runs while cacheLock is held',
  explanation: 'A synchronous read blocks every waiter of cacheLock.',
  fix: 'Use fs.promises.readFile, or read before acquiring.',
  location: { file: 'src/cache|v2.ts', line: 5, column: 9 },
  related: [{ file: 'src/cache|v2.ts', line: 3, column: 3, message: 'cacheLock acquired here' }],
  paths: [],
  locks: ['src/cache|v2.ts#cacheLock'],
  fingerprint: 'blocking-under-lock:src/cache|v2.ts:cacheLock:load',
};

export const note: Finding = {
  ruleId: 'check-then-acquire',
  severity: 'note',
  message: 'isLocked() is checked before acquire()',
  explanation: 'Another task can take the lock between the check and the acquire.',
  fix: 'Use tryAcquire.',
  location: { file: 'src/cache|v2.ts', line: 30, column: 3 },
  related: [],
  paths: [],
  locks: ['src/cache|v2.ts#cacheLock'],
  fingerprint: 'check-then-acquire:src/cache|v2.ts:cacheLock:probe',
};

export const rows: LockInventoryRow[] = [
  {
    id: 'src/store.ts#Store.a',
    name: 'Store.a',
    location: { file: 'src/store.ts', line: 4, column: 12 },
    kind: 'async-mutex',
    type: 'Mutex',
    reentrant: false,
    acquisitions: [
      { file: 'src/store.ts', line: 12, column: 5 },
      { file: 'src/store.ts', line: 20, column: 5 },
      { file: 'src/other dir/sync.ts', line: 9, column: 3 },
    ],
    heldAcrossAwait: true,
    heavySyncUnderLock: false,
    rank: 10,
  },
  {
    id: 'src/store.ts#Store.b',
    name: 'Store.b',
    location: { file: 'src/store.ts', line: 5, column: 12 },
    kind: 'deadbolt',
    type: 'Mutex',
    reentrant: false,
    acquisitions: [{ file: 'src/store.ts', line: 40, column: 11 }],
    heldAcrossAwait: false,
    heavySyncUnderLock: false,
  },
  {
    id: 'src/cache|v2.ts#cacheLock',
    name: 'cacheLock',
    location: { file: 'src/cache|v2.ts', line: 1, column: 7 },
    kind: 'await-lock',
    type: 'AwaitLock',
    reentrant: false,
    acquisitions: [{ file: 'src/cache|v2.ts', line: 3, column: 3 }],
    heldAcrossAwait: false,
    heavySyncUnderLock: true,
  },
];

/** Findings deliberately out of order: reporters sort them. */
export const sample: AuditResult = {
  root: ROOT,
  filesScanned: 12,
  skipped: [{ file: 'src/broken.ts', reason: "1:10 ')' expected" }],
  inventory: rows,
  findings: [note, inversion, blocking, reentrant],
  durationMs: 1234,
};

export const empty: AuditResult = { root: ROOT, filesScanned: 3, skipped: [], inventory: [], findings: [], durationMs: 5 };
