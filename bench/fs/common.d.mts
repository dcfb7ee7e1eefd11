/** Types of common.mjs, for the parent (run-fs.ts), which uses a few of its helpers. */
export declare function now(): number;
export declare function settle(): Promise<void>;
export declare function time(run: () => Promise<void>): Promise<number>;
export declare function warmUp(run: (units: number) => Promise<void>, start: number, targetMs: number, warmupMs: number): Promise<number>;
export interface Sample {
  readonly ops: number;
  readonly ms: number;
  readonly opsPerSec: number;
}
export declare function sample(run: (units: number) => Promise<void>, units: number, count: number): Promise<Sample[]>;
export declare const SEED_KEYS: number;
export declare function seedData(): Record<string, unknown>;
export declare function entry(n: number, by: number | string): unknown;
export declare function writeSeedFile(path: string, envelope: boolean): void;
export declare function report(result: unknown): void;
export declare function runMain(main: () => Promise<void>): void;
