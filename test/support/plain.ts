// Test helpers that import no copy of the library, so that tests of the source (test/support/
// helpers.ts) and tests of the built package (test/threads/fixtures/harness.ts) share them.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let unique = 0;
/** A lock name no other test uses, so learned order edges never leak between tests. */
export function uniqueName(base: string): string {
  unique += 1;
  return `${base}-${unique}`;
}

/** Resolves with the rejection reason, or fails if the promise fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}

/** The thrown error, or fails if `fn` returns. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, but it returned');
}
