import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../examples/machine-registry/main.js';
import { MachineRegistry, RegistryError } from '../examples/machine-registry/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'deadbolt-registry-example-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/machine-registry', () => {
  it('adds, gets, lists by tag and removes machines; a duplicate id writes nothing', async () => {
    const file = join(dir, 'machines.json');
    const registry = new MachineRegistry(file);
    await registry.add({ id: 'db-1', host: 'db1.internal', cpus: 8, tags: ['db'] });
    await registry.add({ id: 'web-1', host: 'web1.internal', cpus: 2, tags: ['web'] });
    const version = registry.snapshot().version;
    await assert.rejects(registry.add({ id: 'db-1', host: 'other', cpus: 1 }), (error: unknown) => error instanceof RegistryError && /already registered \(on db1\.internal\)/.test(error.message));
    assert.equal(registry.snapshot().version, version, 'the failed add wrote nothing');
    assert.equal(registry.get('db-1')?.host, 'db1.internal');
    assert.deepEqual(
      registry.list('web').map((machine) => machine.id),
      ['web-1'],
    );
    assert.equal(await registry.remove('db-1'), true);
    assert.equal(await registry.remove('db-1'), false);
    assert.deepEqual(
      new MachineRegistry(file).list().map((machine) => machine.id),
      ['web-1'],
      'another instance reads the file',
    );
    await assert.rejects(registry.add({ id: 'bad id!', host: 'x', cpus: 1 }), RegistryError);
    await assert.rejects(registry.add({ id: 'x', host: 'x', cpus: 0 }), /cpus must be a positive integer/);
  });

  it('has a command line', async () => {
    const file = join(dir, 'cli.json');
    const lines: string[] = [];
    assert.equal(await run([file, 'add', 'a1', 'host-a', '4', 'gpu'], (line) => lines.push(line)), 0);
    assert.equal(await run([file, 'list', 'gpu'], (line) => lines.push(line)), 0);
    assert.equal(await run([file, 'get', 'zz'], (line) => lines.push(line)), 1);
    assert.equal(await run([file, 'frobnicate'], (line) => lines.push(line)), 2);
    assert.deepEqual(lines, ['added a1 (host-a, 4 cpus)', 'a1\thost-a\t4\tgpu', 'zz is not registered', 'unknown command "frobnicate"']);
  });
});
