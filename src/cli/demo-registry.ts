import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MachineRegistry } from '../../examples/machine-registry/registry.js';
import type { DemoStep } from './demo.js';

const PROCESSES = 4;
const MACHINES_PER_PROCESS = 25;

/** The hidden `deadbolt __registry-writer <file> <worker> <count>` command: one demo process. */
export async function registryWriter(args: readonly string[]): Promise<number> {
  const [file, worker, count] = args;
  if (file === undefined || worker === undefined || !Number.isInteger(Number(count))) return 2;
  const registry = new MachineRegistry(file);
  // All at once: this process's adds share file-lock holds and writes with each other.
  await Promise.all(Array.from({ length: Number(count) }, (_, i) => registry.add({ id: `${worker}-m${i}`, host: `${worker}.example`, cpus: 1 + (i % 8) })));
  return 0;
}

function runWriter(file: string, worker: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1] as string, '__registry-writer', file, worker, String(MACHINES_PER_PROCESS)], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

/** Several processes register machines in one registry file at once; not one may be lost. */
export async function registryStep(): Promise<DemoStep> {
  const title = `The machine registry on Store: ${PROCESSES} processes x ${MACHINES_PER_PROCESS} concurrent adds to one file`;
  const total = PROCESSES * MACHINES_PER_PROCESS + 1;
  const expected = `all ${total} machines registered (one more from this process), no temp debris`;
  const dir = mkdtempSync(join(tmpdir(), 'deadbolt-demo-'));
  try {
    const file = join(dir, 'machines.json');
    const started = performance.now();
    const codes = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => runWriter(file, `p${i + 1}`)));
    const elapsed = Math.round(performance.now() - started);
    const registry = new MachineRegistry(file);
    // This process adds one too, so the learned order shows the registry's file -> memory locks.
    await registry.add({ id: 'demo-m0', host: 'demo.example', cpus: 2 });
    const machines = registry.list();
    const { version } = registry.snapshot();
    const debris = readdirSync(dir).filter((name) => name.endsWith('.tmp'));
    const ok = codes.every((code) => code === 0) && machines.length === total && debris.length === 0;
    const outcome = `${machines.length} machines in ${version} coalesced writes, ${elapsed} ms, ${debris.length} temp files left${codes.every((code) => code === 0) ? '' : `; exit codes ${codes.join(', ')}`}`;
    return { title, expected, outcome, ok, report: undefined };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
