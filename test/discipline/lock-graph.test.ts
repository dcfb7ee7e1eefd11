import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { configure, lockGraph, LockOrderError, LockTimeoutError, Mutex, resetLockGraph } from '../../src/index.js';
import { checkedMode, fastMode, rejectionOf, uniqueName } from '../support/helpers.js';

describe('lockGraph and resetLockGraph', () => {
  beforeEach(checkedMode);

  it('returns classes with ranks and edges with first-seen stacks, as JSON, DOT and Mermaid', async () => {
    const coffer = new Mutex({ name: uniqueName('coffer'), rank: 10 });
    const buffers = new Mutex({ name: uniqueName('buffers'), rank: 20 });
    await coffer.run(() => buffers.run(() => undefined));
    const graph = lockGraph();
    const cofferClass = graph.classes.find((cls) => cls.name === coffer.name);
    assert.equal(cofferClass?.rank, 10);
    const edge = graph.edges.find((candidate) => candidate.from === coffer.name && candidate.to === buffers.name);
    assert.ok(edge, 'edge coffer -> buffers learned');
    assert.match(edge.stack, /lock-graph\.test\.ts/);
    const json = JSON.parse(JSON.stringify(graph)) as { edges: { from: string }[] };
    assert.ok(json.edges.some((candidate) => candidate.from === coffer.name));
    assert.match(graph.toDot(), /^digraph locks \{/);
    assert.match(graph.toDot(), new RegExp(`${coffer.name} \\(rank 10\\)`));
    assert.match(graph.toDot(), /c\d+ -> c\d+;/);
    assert.match(graph.toMermaid(), /^flowchart LR/);
    assert.match(graph.toMermaid(), /c\d+ --> c\d+/);
  });

  it('an unnamed lock gets the class of its construction site', async () => {
    const make = (): Mutex => new Mutex();
    const [a, b] = [make(), make()];
    assert.equal(a.label, b.label, 'same site, same class');
    assert.match(a.label, /lock-graph\.test\.ts:\d+/);
    const c = new Mutex();
    assert.notEqual(c.label, a.label);
    const error = await rejectionOf(a.run(() => b.run(() => undefined)));
    assert.ok(error instanceof LockOrderError && error.kind === 'same-class');
  });

  it('locks that share a name must agree on the rank', () => {
    const name = uniqueName('ranked');
    new Mutex({ name, rank: 5 });
    assert.doesNotThrow(() => new Mutex({ name }));
    assert.throws(() => new Mutex({ name, rank: 6 }), /lock class "ranked-\d+" already has rank 5; a new lock declares rank 6/);
  });

  it('resetLockGraph forgets learned edges, so a reversed order is accepted afterwards', async () => {
    const a = new Mutex({ name: uniqueName('rA') });
    const b = new Mutex({ name: uniqueName('rB') });
    await a.run(() => b.run(() => undefined));
    assert.ok((await rejectionOf(b.run(() => a.run(() => undefined)))) instanceof LockOrderError);
    resetLockGraph();
    assert.equal(lockGraph().edges.length, 0);
    await b.run(() => a.run(() => undefined));
  });

  it('an order-cycle error carries both stacks and the cycle as data', async () => {
    const a = new Mutex({ name: uniqueName('sA') });
    const b = new Mutex({ name: uniqueName('sB') });
    const c = new Mutex({ name: uniqueName('sC') });
    await a.run(() => b.run(() => undefined));
    await b.run(() => c.run(() => undefined));
    const error = await rejectionOf(c.run(() => a.run(() => undefined)));
    assert.ok(error instanceof LockOrderError);
    assert.equal(error.kind, 'order-cycle');
    assert.deepEqual(
      error.cycle.map((edge) => [edge.from, edge.to]),
      [
        [a.name, b.name],
        [b.name, c.name],
      ],
    );
    for (const edge of error.cycle) assert.match(edge.stack, /lock-graph\.test\.ts/);
    assert.match(error.report, /first seen at/);
    assert.match(error.requested.stack ?? '', /lock-graph\.test\.ts/);
  });

  it('unnamed locks used in fast mode register no class (the registry keeps classes forever)', async () => {
    fastMode();
    const before = lockGraph().classes.length;
    for (let i = 0; i < 200; i++) {
      const mutex = new Mutex();
      const guard = await mutex.lock();
      const error = await rejectionOf(mutex.lock({ timeout: 0 }));
      assert.ok(error instanceof LockTimeoutError);
      assert.match(error.message, /Mutex #\d+/);
      guard.release();
    }
    assert.equal(lockGraph().classes.length, before);
    configure({ checks: true });
  });
});
