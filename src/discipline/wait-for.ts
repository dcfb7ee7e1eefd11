import type { Acquisition, Blockers } from './acquisition.js';

/** One step of a wait-for cycle: `waiter` cannot go on until `blocker` does. */
export interface WaitStep {
  readonly waiter: Acquisition;
  readonly blocker: Acquisition;
  /** `holder`: the blocker holds the lock; `queue`: the blocker is queued ahead (FIFO). */
  readonly via: 'holder' | 'queue';
}

interface Node {
  readonly acq: Acquisition;
  readonly isRequest: boolean;
  readonly blockers: Blockers | null;
  /** Held by the requesting flow: stuck by hypothesis, since that flow is about to wait. */
  readonly isRoot: boolean;
  stuck: boolean;
}

/**
 * Decides whether `request` would wait forever, and if so returns the cycle.
 *
 * Nodes are queued requests and held acquisitions. A queued request is stuck if a request ahead
 * of it is stuck, or if the holders that are not stuck cannot free the units it needs (so with a
 * semaphore or shared holds, a cycle counts only when every holder that could let it in is
 * blocked). A held acquisition is stuck if its flow is blocked: it is held by the requesting flow,
 * or every queued request of the flow that holds it is stuck. A holder whose flow is not queued
 * anywhere is running, so it is not stuck: the check never reports a deadlock it cannot prove.
 *
 * "Stuck" is computed as a greatest fixpoint over the nodes reachable from the request: start
 * with all of them stuck and clear the ones that can progress until nothing changes.
 */
export function findWaitCycle(request: Acquisition, requesterHolds: ReadonlySet<Acquisition>): WaitStep[] | null {
  const nodes = new Map<Acquisition, Node>();
  const order: Node[] = [];
  const add = (acq: Acquisition, isRequest: boolean): Node => {
    let node = nodes.get(acq);
    if (node !== undefined) return node;
    const isRoot = !isRequest && requesterHolds.has(acq);
    const blocked = !isRequest && !isRoot ? acq.blockedRequests : null;
    node = {
      acq,
      isRequest,
      blockers: isRequest ? acq.lock.blockers(acq) : null,
      isRoot,
      stuck: isRequest || isRoot || (blocked !== null && blocked.size > 0),
    };
    nodes.set(acq, node);
    order.push(node);
    return node;
  };

  add(request, true);
  for (let i = 0; i < order.length; i++) {
    const node = order[i] as Node;
    if (node.blockers !== null) {
      for (const ahead of node.blockers.ahead) add(ahead, true);
      for (const holder of node.blockers.holders) add(holder, false);
    } else if (!node.isRoot && node.stuck) {
      for (const waiting of node.acq.blockedRequests as Set<Acquisition>) add(waiting, true);
    }
  }

  const stuckNow = (node: Node): boolean => {
    if (node.isRoot) return true;
    if (node.blockers !== null) {
      const { ahead, holders, required, untracked } = node.blockers;
      for (const acq of ahead) if ((nodes.get(acq) as Node).stuck) return true;
      if (required <= 0) return false;
      let freeable = untracked;
      for (const acq of holders) if (!(nodes.get(acq) as Node).stuck) freeable += acq.weight;
      return freeable < required;
    }
    for (const waiting of node.acq.blockedRequests as Set<Acquisition>) if (!(nodes.get(waiting) as Node).stuck) return false;
    return true;
  };

  for (let changed = true; changed; ) {
    changed = false;
    for (const node of order) {
      if (node.stuck && !stuckNow(node)) {
        node.stuck = false;
        changed = true;
      }
    }
  }
  if (!(nodes.get(request) as Node).stuck) return null;
  return tracePath(request, nodes);
}

/** Follows stuck edges from the request until it reaches what the requester holds (or loops). */
function tracePath(request: Acquisition, nodes: Map<Acquisition, Node>): WaitStep[] {
  const steps: WaitStep[] = [];
  const seen = new Set<Acquisition>();
  let at = nodes.get(request) as Node;
  while (!seen.has(at.acq)) {
    seen.add(at.acq);
    if (at.isRoot) break;
    if (at.blockers !== null) {
      // Holders block only when the request needs units from them; otherwise the queue does.
      const holderStuck = at.blockers.required > 0 ? at.blockers.holders.find((acq) => (nodes.get(acq) as Node).stuck) : undefined;
      const aheadStuck = at.blockers.ahead.find((acq) => (nodes.get(acq) as Node).stuck);
      const next = holderStuck ?? aheadStuck;
      if (next === undefined) break;
      steps.push({ waiter: at.acq, blocker: next, via: holderStuck !== undefined ? 'holder' : 'queue' });
      at = nodes.get(next) as Node;
    } else {
      const blocked = [...(at.acq.blockedRequests as Set<Acquisition>)].find((acq) => (nodes.get(acq) as Node).stuck);
      if (blocked === undefined) break;
      at = nodes.get(blocked) as Node;
    }
  }
  return steps;
}
