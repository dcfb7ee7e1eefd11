import type { EdgeRef } from './errors.js';
import { LockClass, type OrderEdge } from './lock-class.js';
import { state } from './state.js';

/** Finds a path of learned edges from `from` to `to` (breadth-first, so the shortest). */
export function findOrderPath(from: LockClass, to: LockClass): OrderEdge[] | null {
  if (from === to) return [];
  const cameFrom = new Map<LockClass, OrderEdge>();
  const queue: LockClass[] = [from];
  for (let i = 0; i < queue.length; i++) {
    const cls = queue[i] as LockClass;
    for (const edge of cls.after.values()) {
      if (edge.to === from || cameFrom.has(edge.to)) continue;
      cameFrom.set(edge.to, edge);
      if (edge.to === to) {
        const path: OrderEdge[] = [];
        for (let at: LockClass = to; at !== from; ) {
          const step = cameFrom.get(at) as OrderEdge;
          path.push(step);
          at = step.from;
        }
        return path.reverse();
      }
      queue.push(edge.to);
    }
  }
  return null;
}

export function addOrderEdge(from: LockClass, to: LockClass, stack: string): OrderEdge {
  const edge: OrderEdge = { from, to, stack };
  from.after.set(to, edge);
  return edge;
}

export function edgeRef(edge: OrderEdge): EdgeRef {
  return { from: edge.from.name, to: edge.to.name, stack: edge.stack };
}

/** A snapshot of the learned lock classes and order edges. */
export interface LockGraph {
  readonly classes: ReadonlyArray<{ readonly name: string; readonly rank: number | undefined; readonly site: string | undefined }>;
  readonly edges: readonly EdgeRef[];
  /** Graphviz DOT: `dot -Tsvg`. */
  toDot(): string;
  /** Mermaid flowchart, for Markdown. */
  toMermaid(): string;
  toJSON(): { classes: LockGraph['classes']; edges: LockGraph['edges'] };
}

function label(name: string, rank: number | undefined): string {
  return rank === undefined ? name : `${name} (rank ${rank})`;
}

/**
 * Returns the learned order graph: every lock class, and every edge `held -> requested` with the
 * stack where it was first seen. The graph is process-global.
 *
 * @example
 * console.log(lockGraph().toMermaid());
 */
export function lockGraph(): LockGraph {
  const classes = state.classes.map((cls) => ({ name: cls.name, rank: cls.rank, site: cls.site }));
  const edges: EdgeRef[] = [];
  for (const cls of state.classes) for (const edge of cls.after.values()) edges.push(edgeRef(edge));
  const ranks = new Map(classes.map((cls) => [cls.name, cls.rank]));
  const ids = new Map(classes.map((cls, index) => [cls.name, `c${index}`]));
  return {
    classes,
    edges,
    toDot() {
      const lines = ['digraph locks {', '  rankdir=LR;', '  node [shape=box];'];
      for (const cls of classes) lines.push(`  ${ids.get(cls.name)} [label=${JSON.stringify(label(cls.name, cls.rank))}];`);
      for (const edge of edges) lines.push(`  ${ids.get(edge.from)} -> ${ids.get(edge.to)};`);
      lines.push('}');
      return lines.join('\n');
    },
    toMermaid() {
      const lines = ['flowchart LR'];
      for (const cls of classes) lines.push(`  ${ids.get(cls.name)}["${label(cls.name, ranks.get(cls.name)).replaceAll('"', '#quot;')}"]`);
      for (const edge of edges) lines.push(`  ${ids.get(edge.from)} --> ${ids.get(edge.to)}`);
      return lines.join('\n');
    },
    toJSON() {
      return { classes, edges };
    },
  };
}

/**
 * Forgets every learned edge (classes stay, since live locks refer to them). For tests that must
 * not see the orders an earlier test taught.
 *
 * @example
 * beforeEach(() => resetLockGraph());
 */
export function resetLockGraph(): void {
  for (const cls of state.classes) cls.after.clear();
  state.warnedEdges.clear();
}
