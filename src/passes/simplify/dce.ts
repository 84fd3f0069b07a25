// Dead-code elimination: drops nodes none of whose outputs reach a graph output, and the
// initializers and value types nothing uses any more. Graph inputs always stay (they are the
// model's signature).

import type { Graph, Node } from '../../ir/graph.ts';
import type { TensorType } from '../../ir/tensor.ts';
import type { Pass } from '../pass.ts';

export const deadCodeElimination: Pass = {
  name: 'dce',
  run(g) {
    const live = new Set<string>(g.outputs);
    const kept: Node[] = [];
    for (let i = g.nodes.length - 1; i >= 0; i--) {
      const n = g.nodes[i] as Node;
      if (!n.outputs.some((o) => live.has(o))) continue;
      kept.push(n);
      for (const v of n.inputs) if (v) live.add(v);
    }
    kept.reverse();
    for (const v of g.inputs) live.add(v);
    for (const n of kept) for (const o of n.outputs) live.add(o);
    const removedNodes = g.nodes.length - kept.length;
    const initializers = new Map([...g.initializers].filter(([k]) => live.has(k)));
    const removedInits = g.initializers.size - initializers.size;
    if (!removedNodes && !removedInits) return { graph: g, changed: false };
    const values = new Map<string, TensorType>([...g.values].filter(([k]) => live.has(k)));
    return { graph: { ...g, nodes: kept, initializers, values }, changed: true, stats: { removedNodes, removedInits } };
  },
};
