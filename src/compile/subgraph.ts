// The IR fragment one kernel computes, as a standalone graph: its inputs become graph inputs
// (weights included), so the interpreter can check any candidate kernel on random data;
// constants baked into the kernel's WGSL stay initializers.

import type { Graph } from '../ir/graph.ts';
import type { Tensor, TensorType } from '../ir/tensor.ts';
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
  // Constants a kernel bakes into its WGSL (gather's indices) are read by its nodes but are not
  // kernel inputs: they stay initializers here.
  const baked = new Map<string, Tensor>();
  for (const n of k.nodes) {
    for (const v of n.inputs) {
      const t = g.initializers.get(v);
      if (v && !values.has(v) && t) {
        typed(v);
        baked.set(v, t);
      }
    }
  }
  return {
    name: `${g.name}/${k.nodes[0]?.name ?? 'kernel'}`,
    inputs: [...k.inputs], outputs: [k.output], values, nodes: [...k.nodes], initializers: baked,
  };
}
