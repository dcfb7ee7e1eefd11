import { channel, type Channel } from 'node:diagnostics_channel';
import { state } from './state.js';

/**
 * diagnostics_channel names deadbolt publishes on. Messages are published only when someone
 * subscribes, and subscribers run after deadbolt's own state is consistent.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(channels.deadlock, ({ error }) => log.error(error.report));
 * subscribe(channels.longHold, ({ lock, heldMs }) => metrics.gauge(`lock.${lock}`, heldMs));
 */
export const channels = {
  /** `{ error: DeadlockError }` */
  deadlock: 'deadbolt:deadlock',
  /** `{ error: LockOrderError, action: 'throw' | 'warn' }` */
  lockOrder: 'deadbolt:lock-order',
  /** `{ error: LockTimeoutError }` */
  timeout: 'deadbolt:timeout',
  /** `{ lock, className, heldMs, stack, report }` */
  longHold: 'deadbolt:long-hold',
  /** `{ blockedMs, locks: LockRef[], report }` */
  loopBlocked: 'deadbolt:loop-blocked',
  /** `{ task, locks: LockRef[], report }`: offloaded work called or awaited while holding locks (deadbolt/threads, checked mode). */
  offloadUnderLock: 'deadbolt:offload-under-lock',
  /** `StallReport` (`{ blockedMs, at, locks: LockRef[], report }`): a stall seen by watchEventLoop() (deadbolt/threads). */
  eventLoopStall: 'deadbolt:event-loop-stall',
} as const;

export type ChannelName = (typeof channels)[keyof typeof channels];

const targets = new Map<ChannelName, Channel>(Object.values(channels).map((name) => [name, channel(name)]));

export function publish(name: ChannelName, message: object): void {
  const target = targets.get(name) as Channel;
  if (target.hasSubscribers) target.publish(message);
}

/** Prints a process warning, at most once a second per key, when warnings are on. */
export function warn(key: string, code: string, text: string): void {
  if (!state.config.warnings) return;
  const now = Date.now();
  const last = state.lastWarning.get(key);
  if (last !== undefined && now - last < 1000) return;
  state.lastWarning.set(key, now);
  process.emitWarning(text, { code, type: 'DeadboltWarning' });
}
