import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSources } from '../../src/audit/index.js';
import { fixture } from './helpers.js';

describe('lock inventory', () => {
  const fx = fixture('inventory', { locks: [{ from: 'package', package: 'acme-limits', name: 'RateLimiter' }] });
  const rows = new Map(fx.result.inventory.map((row) => [row.name, row]));

  it('recognises every lock kind', () => {
    const kinds = fx.result.inventory.map((row) => [row.name, row.kind, row.type]);
    assert.deepEqual(kinds, [
      ['Job.running', 'flag', 'boolean flag'],
      ['registry', 'deadbolt', 'Mutex'],
      ['table', 'deadbolt', 'RwLock'],
      ['pool', 'deadbolt', 'Semaphore'],
      ['file', 'deadbolt', 'FileLock'],
      ['shared', 'deadbolt', 'SharedMutex'],
      ['cache', 'async-mutex', 'Mutex'],
      ['slots', 'async-mutex', 'Semaphore'],
      ['keyed', 'async-lock', 'AsyncLock'],
      ['simple', 'await-lock', 'AwaitLock'],
      ['esfx', 'esfx', 'AsyncMutex'],
      ['limiter', 'custom', 'RateLimiter'],
      ['chain', 'promise-chain', 'ChainLock'],
      ['lockfile(path)', 'proper-lockfile', 'lockfile.lock'],
    ].sort((a, b) => (rows.get(a[0] as string)?.location.line ?? 0) - (rows.get(b[0] as string)?.location.line ?? 0)));
    assert.ok(fx.result.inventory.every((row) => row.acquisitions.length >= 1 && !row.reentrant));
  });

  it('gives location, id, rank and acquisition sites', () => {
    const registry = rows.get('registry');
    assert.ok(registry);
    assert.equal(registry.id, 'kinds.ts#registry');
    assert.equal(registry.location.line, fx.line('kinds.ts', 'registry'));
    assert.equal(registry.rank, 20);
    assert.deepEqual(registry.acquisitions.map((a) => a.line), [fx.line('kinds.ts', 'registry-acquire')]);
    assert.deepEqual(rows.get('table')?.acquisitions.map((a) => a.line).length, 2);
  });

  it('says which locks are held across an await', () => {
    const across = fx.result.inventory.filter((row) => row.heldAcrossAwait).map((row) => row.name).sort();
    // registry, shared and esfx are held to the end of useAll by `using`; Job.running spans await task().
    assert.deepEqual(across, ['Job.running', 'esfx', 'registry', 'shared']);
  });

  it('says which locks have heavy synchronous work under them', () => {
    assert.deepEqual(fx.result.inventory.filter((row) => row.heavySyncUnderLock).map((row) => row.name), ['registry']);
  });

  it('lists a config-declared wrapper as a lock of kind wrapper, acquired where it is called', () => {
    const result = analyzeSources(
      [{ file: 'orders.ts', text: "export async function save(db: any) {\n  await db.transaction(async () => {\n    await db.insert('orders');\n  });\n}\n" }],
      { root: '/virtual', config: { wrappers: [{ name: 'Db.transaction' }] } },
    );
    assert.deepEqual(
      result.inventory.map((row) => [row.name, row.kind, row.acquisitions.map((a) => a.line), row.heldAcrossAwait]),
      [['Db.transaction (wrapper)', 'wrapper', [2], true]],
    );
  });

  it('lists class and module locks that nothing acquires', () => {
    const result = analyzeSources([{ file: 'idle.ts', text: "import { Mutex } from 'async-mutex';\nexport class Idle {\n  private readonly m = new Mutex();\n}\n" }], { root: '/virtual' });
    assert.deepEqual(result.inventory.map((row) => [row.id, row.acquisitions.length]), [['idle.ts#Idle.m', 0]]);
  });
});
