// The IR fragment one kernel computes, as a standalone graph: its inputs become graph inputs
// (weights included), so the interpreter can check any candidate kernel on random data.

import type { Graph } from '../ir/graph.ts';
import type { TensorType } from '../ir/tensor.ts';
import type { KernelInstance } from './lower.ts';

export function kernelSubgraph(g: Graph, k: KernelInstance): Graph {
  const values = new Map<string, TensorType>();
  const typed = (v: string): void => {
    const t = g.values.get(v);
    if (!t) throw new Error(`kernelSubgraph: value '${v}' has no type`);
    values.set(v, t);
  };
  k.inputs.forEach(typed);
  for (const n of k.nodes) n.outputs.forEach(typed);
  return {
    name: `${g.name}/${k.nodes[0]?.name ?? 'kernel'}`,
    inputs: [...k.inputs], outputs: [k.output], values, nodes: [...k.nodes], initializers: new Map(),
  };
}
