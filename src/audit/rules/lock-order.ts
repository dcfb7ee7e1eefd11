/*
 * lock-order-inversion: builds the order graph (held lock -> requested lock, with the first path
 * that showed each edge) from every acquisition and every call made while holding locks, then
 * reports each pair of locks taken in both orders, each longer cycle (A then B, B then C, C then
 * A: three paths that deadlock together), and each edge that breaks declared ranks.
 */
import { makeFinding } from '../fingerprint.js';
import { displayName, type Hold, type LockRef, type Unit } from '../model.js';
import type { Summaries } from '../summaries.js';
import type { Finding, LabelledLocation } from '../types.js';

interface Edge {
  readonly from: Hold;
  readonly to: LockRef;
  readonly toLabel: string;
  readonly path: readonly LabelledLocation[];
  readonly unit: Unit;
}

function holdSteps(hold: Hold): LabelledLocation[] {
  return [hold.site, ...(hold.via ?? [])];
}

/** Every held -> requested pair, keyed `from\0to`, first path wins. */
export function orderEdges(summaries: Summaries): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  const add = (from: Hold, toKey: string, to: LockRef, toLabel: string, path: LabelledLocation[], unit: Unit): void => {
    if (from.mode === 'flag' || from.lockKey === toKey) return;
    const key = `${from.lockKey}\u0000${toKey}`;
    const existing = edges.get(key);
    // The shortest path reads best in a report.
    if (existing === undefined || existing.path.length > path.length) edges.set(key, { from, to, toLabel, path, unit });
  };
  for (const unit of summaries.units) {
    for (const event of unit.acquires) {
      if (event.mode !== 'block') continue;
      for (const hold of summaries.effective(unit, event.held)) add(hold, event.lockKey, event.ref, event.label, [...holdSteps(hold), event.site, ...(event.via ?? [])], unit);
    }
    for (const call of unit.calls) {
      const held = summaries.effective(unit, call.held);
      if (held.length === 0) continue;
      const reach = summaries.reach(call.callee);
      if (reach.size === 0) continue;
      for (const hold of held) {
        for (const [key, target] of reach) {
          add(hold, key, target.ref, target.label, [...holdSteps(hold), call.site, ...target.path], unit);
        }
      }
    }
  }
  return edges;
}

export function lockOrderFindings(summaries: Summaries): Finding[] {
  const edges = orderEdges(summaries);
  const findings: Finding[] = [];
  for (const [key, forward] of edges) {
    const [fromKey, toKey] = key.split('\u0000') as [string, string];
    const backward = edges.get(`${toKey}\u0000${fromKey}`);
    if (backward !== undefined && fromKey < toKey) {
      const a = forward.from.label;
      const b = forward.toLabel;
      const second = forward.path[forward.path.length - 1] as LabelledLocation;
      findings.push(
        makeFinding({
          ruleId: 'lock-order-inversion',
          message: `${a} and ${b} are taken in opposite orders: ${a} then ${b} in ${displayName(forward.unit)}, ${b} then ${a} in ${displayName(backward.unit)}.`,
          location: second,
          related: [backward.path[0] as LabelledLocation, backward.path[backward.path.length - 1] as LabelledLocation],
          paths: [forward.path, backward.path],
          locks: [forward.from.ref.decl.id, forward.to.decl.id],
          functions: [displayName(forward.unit), displayName(backward.unit)].sort(),
          discriminator: [fromKey, toKey].join('|'),
        }),
      );
    }
    const fromRank = forward.from.ref.decl.rank;
    const toRank = forward.to.decl.rank;
    if (fromRank !== undefined && toRank !== undefined && toRank <= fromRank && forward.from.ref.decl !== forward.to.decl) {
      const last = forward.path[forward.path.length - 1] as LabelledLocation;
      findings.push(
        makeFinding({
          ruleId: 'lock-order-inversion',
          message: `${forward.toLabel} (rank ${toRank}) is requested while ${forward.from.label} (rank ${fromRank}) is held: ranks must increase along a path.`,
          location: last,
          related: [forward.path[0] as LabelledLocation],
          paths: [forward.path],
          locks: [forward.from.ref.decl.id, forward.to.decl.id],
          functions: [displayName(forward.unit)],
          discriminator: `rank:${fromKey}|${toKey}`,
        }),
      );
    }
  }
  findings.push(...longerCycles(edges));
  return findings;
}

/** Longest cycle searched for: each extra lock multiplies the search, and real cycles are short. */
const MAX_CYCLE = 5;

/**
 * Cycles of three to MAX_CYCLE locks in the order graph with no pair inversion inside them (those
 * are reported as pairs already), each once: from its smallest lock key, through larger keys only.
 */
function longerCycles(edges: ReadonlyMap<string, Edge>): Finding[] {
  const next = new Map<string, string[]>();
  for (const key of edges.keys()) {
    const [from, to] = key.split('\u0000') as [string, string];
    if (edges.has(`${to}\u0000${from}`)) continue;
    (next.get(from) ?? next.set(from, []).get(from)!).push(to);
  }
  const findings: Finding[] = [];
  const path: string[] = [];
  const search = (start: string, node: string): void => {
    for (const to of next.get(node) ?? []) {
      if (to === start && path.length >= 3) findings.push(cycleFinding(path, edges));
      else if (to > start && !path.includes(to) && path.length < MAX_CYCLE) {
        path.push(to);
        search(start, to);
        path.pop();
      }
    }
  };
  for (const start of [...next.keys()].sort()) {
    path.push(start);
    search(start, start);
    path.pop();
  }
  return findings;
}

function cycleFinding(keys: readonly string[], edges: ReadonlyMap<string, Edge>): Finding {
  const steps = keys.map((key, i) => edges.get(`${key}\u0000${keys[(i + 1) % keys.length]}`) as Edge);
  const names = steps.map((edge) => edge.from.label);
  const described = steps.map((edge) => `${edge.from.label} then ${edge.toLabel} in ${displayName(edge.unit)}`).join(', ');
  const last = steps[steps.length - 1] as Edge;
  return makeFinding({
    ruleId: 'lock-order-inversion',
    message: `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are taken in a cycle: ${described}.`,
    location: last.path[last.path.length - 1] as LabelledLocation,
    related: steps.slice(0, -1).map((edge) => edge.path[edge.path.length - 1] as LabelledLocation),
    paths: steps.map((edge) => edge.path),
    locks: steps.map((edge) => edge.from.ref.decl.id),
    functions: steps.map((edge) => displayName(edge.unit)).sort(),
    discriminator: `cycle:${keys.join('|')}`,
  });
}
