import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSources } from '../../src/audit/index.js';
import { at, fixture, ofRule, pathSteps } from './helpers.js';

describe('lock-order-inversion', () => {
  const fx = fixture('lock-order-inversion');
  const findings = ofRule(fx.result, 'lock-order-inversion');

  it('reports two methods of one class that take two locks in opposite orders, through a this.method() call', () => {
    const bank = findings.filter((f) => f.location.file === 'bank.ts');
    assert.equal(bank.length, 1);
    const [finding] = bank;
    assert.ok(finding);
    assert.equal(finding.severity, 'error');
    assert.deepEqual([...finding.locks].sort(), ['bank.ts#Bank.audit', 'bank.ts#Bank.ledger']);
    assert.match(finding.message, /Bank\.audit and Bank\.ledger are taken in opposite orders/);
    assert.equal(at(finding), `bank.ts:${fx.line('bank.ts', 'audit-then-ledger')}`);
    // Both paths: audit then ledger directly; ledger then audit through recordAudit().
    assert.deepEqual(pathSteps(finding), [
      [`bank.ts:${fx.line('bank.ts', 'audit-then-ledger') - 1}`, `bank.ts:${fx.line('bank.ts', 'audit-then-ledger')}`],
      ['bank.ts:12', 'bank.ts:15', `bank.ts:${fx.line('bank.ts', 'ledger-then-audit')}`],
    ]);
    assert.match(finding.paths[1]?.[1]?.message ?? '', /calls Bank\.recordAudit/);
  });

  it('follows calls across files and a re-export to reach both orders', () => {
    const cross = findings.filter((f) => f.locks.includes('locks/defs.ts#storeLock'));
    assert.equal(cross.length, 1);
    const [finding] = cross;
    assert.ok(finding);
    assert.deepEqual([...finding.locks].sort(), ['locks/defs.ts#indexLock', 'locks/defs.ts#storeLock']);
    assert.equal(at(finding), `indexer.ts:${fx.line('indexer.ts', 'flush-takes-store')}`);
    assert.deepEqual(pathSteps(finding), [
      [`indexer.ts:${fx.line('indexer.ts', 'rebuild-takes-index')}`, `indexer.ts:${fx.line('indexer.ts', 'rebuild-calls-flush')}`, `indexer.ts:${fx.line('indexer.ts', 'flush-takes-store')}`],
      ['cache.ts:8', `cache.ts:${fx.line('cache.ts', 'put-calls-reindex')}`, `indexer.ts:${fx.line('indexer.ts', 'reindex-takes-index')}`],
    ]);
  });

  it('reports a declared rank broken on a single path', () => {
    const ranked = findings.filter((f) => f.location.file === 'ranks.ts');
    assert.equal(ranked.length, 1);
    const [finding] = ranked;
    assert.ok(finding);
    assert.match(finding.message, /coffer \(rank 10\) is requested while buffers \(rank 20\) is held/);
    assert.equal(at(finding), `ranks.ts:${fx.line('ranks.ts', 'rank')}`);
    assert.deepEqual(pathSteps(finding), [[`ranks.ts:${fx.line('ranks.ts', 'rank-held')}`, `ranks.ts:${fx.line('ranks.ts', 'rank')}`]]);
  });

  it('takes ranks from the config, by lock id or name', () => {
    const ranked = fixture('lock-order-inversion', { ranks: { 'consistent.ts#users': 5, sessions: 1 } });
    const consistent = ofRule(ranked.result, 'lock-order-inversion').filter((f) => f.location.file === 'consistent.ts');
    // One finding per pair of locks, on the shortest (then first) path that shows it.
    assert.deepEqual(consistent.map((f) => f.location.line), [14]);
    assert.match(consistent[0]?.message ?? '', /sessions \(rank 1\) is requested while users \(rank 5\) is held/);
  });

  it('stays quiet on locks always taken in one order, and on lockAll', () => {
    assert.deepEqual(findings.filter((f) => f.location.file === 'consistent.ts'), []);
    assert.equal(findings.length, 4);
  });

  it('reports a cycle of three locks that no pair of paths shows on its own, with all three paths', () => {
    const cycle = findings.filter((f) => f.location.file === 'pipeline.ts');
    assert.equal(cycle.length, 1);
    const [finding] = cycle;
    assert.ok(finding);
    assert.match(finding.message, /ingest, transform and publish are taken in a cycle: ingest then transform in ingestThenTransform, transform then publish in transformThenPublish, publish then ingest in publishThenIngest/);
    assert.deepEqual([...finding.locks].sort(), ['pipeline.ts#ingest', 'pipeline.ts#publish', 'pipeline.ts#transform']);
    assert.deepEqual(
      finding.paths.map((path) => path[path.length - 1]).map((step) => `pipeline.ts:${step?.line}`),
      ['ingest-transform', 'transform-publish', 'publish-ingest'].map((marker) => `pipeline.ts:${fx.line('pipeline.ts', marker)}`),
    );
  });

  it('reports no cycle when the third edge is missing', () => {
    const source = fx.sources.find((s) => s.file === 'pipeline.ts');
    assert.ok(source);
    const broken = source.text.replace(/export async function publishThenIngest[\s\S]*$/, '');
    const result = analyzeSources([{ file: 'pipeline.ts', text: broken }], { root: fx.root });
    assert.deepEqual(ofRule(result, 'lock-order-inversion'), []);
  });
});
