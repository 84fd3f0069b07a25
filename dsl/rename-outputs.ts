// Gives graph outputs the names the source declared (`-> (y)`): `let y = ...` followed by
// `y = relu(y)` leaves the final value as `y_1`, and bundles should expose `y`. A value that
// already holds the wanted name is renamed aside first. Pure: returns a new graph.

import type { Graph, Node } from '../src/ir/graph.ts';

export function renameOutputs(g: Graph, outs: readonly { value: string; name: string }[]): Graph {
  const fixed = (v: string): boolean => g.inputs.includes(v) || g.initializers.has(v);
  const want = new Map<string, string>();
  const claimed = new Set<string>();
  for (const { value, name } of outs) {
    if (fixed(value) || want.has(value) || claimed.has(name) || (name !== value && fixed(name))) continue;
    want.set(value, name);
    claimed.add(name);
  }
  const taken = new Set([...g.values.keys(), ...claimed]);
  const map = new Map<string, string>();
  for (const [v, n] of want) if (v !== n) map.set(v, n);
  // A value that currently holds a claimed name, and gets no name of its own, moves aside.
  for (const v of g.values.keys()) {
    if (!claimed.has(v) || want.has(v)) continue;
    let i = 1;
    while (taken.has(`${v}_${i}`)) i++;
    taken.add(`${v}_${i}`);
    map.set(v, `${v}_${i}`);
  }
  if (!map.size) return g;
  const r = (v: string): string => map.get(v) ?? v;
  const nodes: Node[] = g.nodes.map((n) => ({ ...n, inputs: n.inputs.map(r), outputs: n.outputs.map(r) }));
  const values = new Map([...g.values].map(([k, t]) => [r(k), t] as const));
  return { ...g, nodes, values, outputs: g.outputs.map(r) };
}
