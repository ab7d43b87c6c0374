/**
 * Graph checks of a pipeline's DAG: cycles and ancestry. Pure functions over step names.
 */

/**
 * One cycle of the graph (`after` edges: step → the steps it runs after), as the list of step names
 * along it, first name repeated at the end (`['a', 'b', 'a']`), or `undefined` when the graph is
 * acyclic. Edges to unknown names are ignored.
 */
export function findCycle(after: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 'done') return undefined;
    if (s === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const d of after.get(n) ?? []) {
      if (!after.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of after.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/** Every step `name` runs after, directly or transitively (the graph must be acyclic). */
export function ancestors(after: ReadonlyMap<string, readonly string[]>, name: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(after.get(name) ?? [])];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (seen.has(n) || !after.has(n)) continue;
    seen.add(n);
    todo.push(...(after.get(n) ?? []));
  }
  return seen;
}
