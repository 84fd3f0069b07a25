// Binds symbolic dims to sizes (from given input shapes and/or a name->size map) and
// re-infers every node's output type, yielding a graph with concrete shapes where possible.
// Mismatches (a fixed dim given another size, one name bound twice differently) are errors.

import type { Graph } from './graph.ts';
import { getOp } from './op-table.ts';
import { bindShape, shapeToString, type DimEnv } from './shape.ts';
import type { TensorType } from './tensor.ts';

export class BindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BindError';
  }
}

export function bindGraph(g: Graph, inputShapes: Readonly<Record<string, readonly number[]>>, dims: DimEnv = new Map()): Graph {
  const env = new Map(dims);
  for (const [name, shape] of Object.entries(inputShapes)) {
    if (!g.inputs.includes(name)) throw new BindError(`--input ${name}: the model has no input '${name}' (inputs: ${g.inputs.join(', ')})`);
    const declared = (g.values.get(name) as TensorType).shape;
    if (declared.length !== shape.length) throw new BindError(`input '${name}' has rank ${declared.length} ${shapeToString(declared)}, got ${shapeToString(shape)}`);
    declared.forEach((d, i) => {
      const s = shape[i] as number;
      if (typeof d === 'number' && d !== s) throw new BindError(`input '${name}' dim ${i} is fixed at ${d}, got ${s}`);
      if (typeof d === 'string') {
        const prev = env.get(d);
        if (prev !== undefined && prev !== s) throw new BindError(`dim '${d}' bound to both ${prev} and ${s}`);
        env.set(d, s);
      }
    });
  }
  const values = new Map<string, TensorType>();
  for (const v of g.inputs) {
    const t = g.values.get(v) as TensorType;
    values.set(v, { dtype: t.dtype, shape: bindShape(t.shape, env) });
  }
  for (const [v, t] of g.initializers) values.set(v, { dtype: t.dtype, shape: t.shape });
  for (const n of g.nodes) {
    const ins = n.inputs.filter((i) => i !== '').map((i) => values.get(i) as TensorType);
    const out = getOp(n.op)?.infer(ins, n.attrs);
    if (out === undefined) throw new BindError(`node '${n.name}': unknown op '${n.op}'`);
    if (typeof out === 'string') throw new BindError(`node '${n.name}' (${n.op}): ${out}`);
    n.outputs.forEach((o, i) => values.set(o, out[i] as TensorType));
  }
  return { ...g, values };
}
