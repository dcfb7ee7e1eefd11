import { spawn } from 'node:child_process';

/**
 * The environment of a measured child: nothing may change it behind the benchmark's back, so no
 * preloads (tsx would turn source maps on) and deadbolt's default stack policy.
 */
export function measuredEnv(checks: 'on' | 'off'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DEADBOLT_CHECKS: checks };
  delete env.NODE_OPTIONS;
  delete env.DEADBOLT_STACKS;
  return env;
}

/**
 * Runs `node --expose-gc <args>` to completion; resolves with the last stdout line parsed as JSON
 * and the child's stderr, or rejects (naming `label`) if it failed or printed no JSON.
 */
export function runJsonChild<T>(label: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ result: T; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${label}: exited with ${String(code)}\n${stderr}${stdout}`));
      else resolve({ result: JSON.parse(line) as T, stderr });
    });
  });
}
