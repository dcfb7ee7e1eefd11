import { channel } from 'node:diagnostics_channel';
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
} as const;

const deadlockChannel = channel(channels.deadlock);
const lockOrderChannel = channel(channels.lockOrder);
const timeoutChannel = channel(channels.timeout);
const longHoldChannel = channel(channels.longHold);
const loopBlockedChannel = channel(channels.loopBlocked);

export function publish(name: (typeof channels)[keyof typeof channels], message: object): void {
  const target =
    name === channels.deadlock
      ? deadlockChannel
      : name === channels.lockOrder
        ? lockOrderChannel
        : name === channels.timeout
          ? timeoutChannel
          : name === channels.longHold
            ? longHoldChannel
            : loopBlockedChannel;
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
