import { subscribe } from 'node:diagnostics_channel';
import { isMainThread, type Worker } from 'node:worker_threads';
import { currentArena } from './arena.js';

/*
 * A worker that dies holding a shared lock never releases it. Node publishes every Worker created
 * by a thread on the 'worker_threads' diagnostics channel of that thread; deadbolt/threads
 * listens, and when such a worker exits it marks that thread dead in the arena and wakes the
 * waiters of its locks, which take them over with `ownerDied` set.
 */
subscribe('worker_threads', (message) => {
  const worker = (message as { worker?: Worker }).worker;
  if (worker === undefined) return;
  const id = worker.threadId;
  worker.once('exit', () => currentArena()?.markThreadDead(id));
});

// A worker that ends through process.exit() (or by running out of work) also marks itself dead
// on the way out: that reaches a creator whose event loop is blocked in lockSync(), which the
// 'exit' event above cannot. terminate() runs no exit handler; only the creator's event loop
// sees that one.
if (!isMainThread) process.once('exit', () => currentArena()?.markSelfDead());
