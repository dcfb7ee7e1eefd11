/** Statistics and markdown formatting shared by the benchmark suites (the conventions of bench/run.ts). */

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Half the range of the per-round values, relative to the overall median. */
export function spread(perRound: readonly number[], overall: number): string {
  if (perRound.length < 2) return 'n/a';
  return `±${(((Math.max(...perRound) - Math.min(...perRound)) / 2 / overall) * 100).toFixed(0)}%`;
}

export function fmtOps(opsPerSec: number): string {
  if (!Number.isFinite(opsPerSec)) return 'n/a';
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k`;
  return opsPerSec.toFixed(0);
}

export function fmtRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  if (ratio >= 100) return `${ratio.toFixed(0)}x`;
  return ratio < 0.1 ? `${ratio.toPrecision(2)}x` : `${ratio.toFixed(2)}x`;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const lines = [header, align.map((a) => (a === 'l' ? ':--' : '--:')), ...rows];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Round-robin order of `items` for round `round` of `rounds`: a different starting point each round. */
export function rotate<T>(items: readonly T[], round: number, rounds: number): T[] {
  const offset = Math.floor((round * items.length) / rounds);
  return [...items.slice(offset), ...items.slice(0, offset)];
}
