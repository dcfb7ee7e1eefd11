/**
 * The wait-for cycle through `start`, or null: a path that begins with `start`, where each node
 * waits on the next (`blockers(node)` are the nodes `node` waits on), and the last one waits on
 * `start`. Depth-first, visiting each node once. Used by the cross-process (deadbolt/fs) and
 * cross-thread (deadbolt/threads) wait-for checks, whose nodes are published waits.
 */
export function cycleThrough<T>(start: T, blockers: (node: T) => readonly T[]): T[] | null {
  const path: T[] = [];
  const visited = new Set<T>();
  const search = (node: T): boolean => {
    path.push(node);
    for (const next of blockers(node)) {
      if (next === start) return true;
      if (visited.has(next)) continue;
      visited.add(next);
      if (search(next)) return true;
    }
    path.pop();
    return false;
  };
  return search(start) ? path : null;
}

/** Every node reachable from `from` along `next`, `from` included. */
export function reachable<T>(from: T, next: (node: T) => readonly T[]): Set<T> {
  const seen = new Set<T>([from]);
  const todo = [from];
  for (let node = todo.pop(); node !== undefined; node = todo.pop()) {
    for (const other of next(node)) {
      if (seen.has(other)) continue;
      seen.add(other);
      todo.push(other);
    }
  }
  return seen;
}
