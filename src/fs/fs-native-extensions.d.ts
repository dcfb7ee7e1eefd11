// fs-native-extensions ships no types; this declares the part deadbolt uses.
declare module 'fs-native-extensions' {
  interface LockOptions {
    /** Shared (read) lock; exclusive otherwise. */
    shared?: boolean;
  }
  /** Non-blocking: true if the lock was taken, false if another open file description holds it. */
  export function tryLock(fd: number, options?: LockOptions): boolean;
  export function unlock(fd: number): void;
  const api: { tryLock: typeof tryLock; unlock: typeof unlock };
  export default api;
}
