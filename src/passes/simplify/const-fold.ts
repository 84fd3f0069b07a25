// Constant folding: a node whose inputs are all initializers is evaluated once through its
// op's float64 reference and replaced by an initializer (stored in the output's dtype, so f32
// results round once). Nodes producing graph outputs, f16/packed results and results larger
// than `maxElements` stay, and so do results bigger than both `smallElements` and their largest
// input (an expand/broadcast of a small constant would only grow the bundle). Initializers left
// unused are for DCE to drop.

import { isPacked } from '../../ir/dtype.ts';
import type { Graph, Node } from '../../ir/graph.ts';
import { getOp } from '../../ir/op-table.ts';
import { isConcrete, numel } from '../../ir/shape.ts';
import { tensor, type NdArray, type Tensor, type TensorType } from '../../ir/tensor.ts';
import { tensorToNd } from '../../interp/interpreter.ts';
import type { Pass } from '../pass.ts';

function toTensor(t: TensorType, v: NdArray): Tensor | undefined {
  if (isPacked(t.dtype) || !isConcrete(t.shape)) return undefined;
  switch (t.dtype) {
    case 'f32': return tensor('f32', v.shape, Float32Array.from(v.data));
    case 'i32': return tensor('i32', v.shape, Int32Array.from(v.data));
    case 'u32': return tensor('u32', v.shape, Uint32Array.from(v.data));
    case 'bool': return tensor('bool', v.shape, Uint8Array.from(v.data, (x) => (x ? 1 : 0)));
    default: return undefined; // f16 would need rounding rules of its own
  }
}

function storable(t: TensorType): boolean {
  return t.dtype === 'f32' || t.dtype === 'i32' || t.dtype === 'u32' || t.dtype === 'bool';
}

export function constantFolding(opts: { maxElements?: number; smallElements?: number } = {}): Pass {
  const cap = opts.maxElements ?? 1 << 22;
  const small = opts.smallElements ?? 4096;
  return {
    name: 'const-fold',
    run(g: Graph) {
      const outputs = new Set(g.outputs);
      const inits = new Map(g.initializers);
      const values = new Map<string, NdArray>();
      const nd = (v: string): NdArray => {
        let a = values.get(v);
        if (!a) {
          a = tensorToNd(inits.get(v) as Tensor);
          values.set(v, a);
        }
        return a;
      };
      const kept: Node[] = [];
      let folded = 0;
      for (const n of g.nodes) {
        const def = getOp(n.op);
        const ins = n.inputs.filter((v) => v !== '');
        const types = n.outputs.map((o) => g.values.get(o));
        const biggestIn = Math.max(...ins.map((v) => inits.get(v)?.data.length ?? 0));
        const foldable = def && ins.length > 0 && ins.every((v) => inits.has(v)) && !n.outputs.some((o) => outputs.has(o)) &&
          types.every((t) => t && isConcrete(t.shape) && numel(t.shape) <= cap && (numel(t.shape) <= Math.max(small, biggestIn)) && storable(t));
        if (!foldable) {
          kept.push(n);
          continue;
        }
        const res = def.reference(ins.map(nd), n.attrs);
        const made = n.outputs.map((o, k) => toTensor(types[k] as TensorType, res[k] as NdArray));
        if (made.some((t) => !t)) {
          kept.push(n);
          continue;
        }
        n.outputs.forEach((o, k) => inits.set(o, made[k] as Tensor));
        folded++;
      }
      if (!folded) return { graph: g, changed: false };
      return { graph: { ...g, nodes: kept, initializers: inits }, changed: true, stats: { foldedNodes: folded } };
    },
  };
}
