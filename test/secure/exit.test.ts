import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const fixture = new URL('./fixtures/exit-child.ts', import.meta.url).pathname;

function run(mode: string, onReady?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (chunk.includes('ready')) onReady?.(child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('safeExit and catchSignals', { timeout: 30_000 }, () => {
  it('safeExit purges every buffer, then exits with the code given', async () => {
    const { code, stdout, stderr } = await run('safe');
    assert.equal(code, 3, stderr);
    assert.match(stdout, /exit 3 live 0 alive 0/);
  });

  it('catchSignals runs the handler on SIGTERM, purges, and exits with 128 + 15', async () => {
    const { code, stdout, stderr } = await run('signal', (child) => child.kill('SIGTERM'));
    assert.equal(code, 143, stderr);
    assert.match(stdout, /handler SIGTERM\n/);
    assert.match(stdout, /exit 143 live 0 alive 0/);
  });

  it('a buffer that cannot be wiped in time is reported and makes the exit code 1, not 0', async () => {
    const { code, stdout, stderr } = await run('stuck');
    assert.equal(code, 1);
    assert.match(stderr, /safeExit could not wipe everything: purge destroyed 4 secure buffer\(s\), with 1 problem\(s\)/);
    assert.match(stdout, /exit 1 live 1 alive 0/);
  });
});
