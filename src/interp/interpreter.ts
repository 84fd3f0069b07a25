// The float64 reference interpreter: runs a graph node by node through each op's reference
// implementation. Every kernel and every pass is checked against it. Slow by design; shapes
// must be concrete (bind symbolic dims first).

import type { Graph } from '../ir/graph.ts';
import { getOp } from '../ir/op-table.ts';
import { isConcrete } from '../ir/shape.ts';
import { ndarray, type NdArray, type Tensor } from '../ir/tensor.ts';
import { isPacked } from '../ir/dtype.ts';
import { f16BitsToNumber } from '../ir/f16.ts';

export function tensorToNd(t: Tensor): NdArray {
  if (t.dtype === 'f16' && t.data instanceof Uint16Array) {
    const out = ndarray(t.shape);
    for (let i = 0; i < t.data.length; i++) out.data[i] = f16BitsToNumber(t.data[i] as number);
    return out;
  }
  if (isPacked(t.dtype) && t.dtype.quant) throw new Error('interpreter: quantized tensors need a dequantize node');
  // i32/u32 (e.g. matmul_nbits' packed words) are exact in float64: ops read them back as integers.
  return ndarray(t.shape, t.data);
}

export function interpret(g: Graph, inputs: ReadonlyMap<string, NdArray> | Record<string, NdArray>): Map<string, NdArray> {
  const env = new Map<string, NdArray>();
  const given = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  for (const name of g.inputs) {
    const v = given.get(name);
    if (!v) throw new Error(`interpreter: missing input '${name}'`);
    const t = g.values.get(name);
    if (t && isConcrete(t.shape) && (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))) {
      throw new Error(`interpreter: input '${name}' has shape [${v.shape.join(',')}], graph expects [${t.shape.join(',')}]`);
    }
    env.set(name, v);
  }
  for (const [name, t] of g.initializers) env.set(name, tensorToNd(t));
  for (const n of g.nodes) {
    const def = getOp(n.op);
    if (!def) throw new Error(`interpreter: node '${n.name}' has unknown op '${n.op}'`);
    const args = n.inputs.filter((i) => i !== '').map((i) => {
      const v = env.get(i);
      if (!v) throw new Error(`interpreter: node '${n.name}' reads undefined value '${i}'`);
      return v;
    });
    const outs = def.reference(args, n.attrs);
    n.outputs.forEach((o, k) => env.set(o, outs[k] as NdArray));
  }
  const result = new Map<string, NdArray>();
  for (const o of g.outputs) result.set(o, env.get(o) as NdArray);
  return result;
}
