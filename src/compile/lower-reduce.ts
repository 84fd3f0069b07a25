// Lowering of the reduction, normalization, gather and view ops (called from lower.ts): one
// kernel instance per node, or a storage alias for ops that move no data. User-facing limits
// (runtime indices, dtype-changing casts) throw LoweringError, a one-line user error.

import { MAX_BAKED_INDICES } from '../../codegen/kernels/gather.ts';
import type { Problem } from '../../codegen/problems.ts';
import { intsAttr, numberAttr } from '../ir/graph.ts';
import { wrapIndex } from '../ir/ops/gather.ts';
import { normAxis } from '../ir/ops/normalize.ts';
import { normalizeAxes, normalizeAxis } from '../ir/ops/reduce.ts';
import { castTarget } from '../ir/ops/shape-ops.ts';
import { broadcastStrides, numel, stridesOf } from '../ir/shape.ts';
import { tensorToNd } from '../interp/interpreter.ts';
import type { LoweredNode, NodeLowering } from './lowering.ts';

export class LoweringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoweringError';
  }
}

const VIEW_OPS = new Set(['squeeze', 'unsqueeze', 'flatten', 'identity']);
const REDUCE_OPS: Readonly<Record<string, 'sum' | 'mean' | 'max'>> = { reduce_sum: 'sum', reduce_mean: 'mean', reduce_max: 'max' };


const prod = (xs: readonly number[]): number => numel(xs);

export const lowerReduceFamily: NodeLowering = (node, cx) => {
  const g = cx.graph;
  const shapeOf = cx.shapeOf;
  const x = node.inputs[0] as string;
  const out = node.outputs[0] as string;
  const one = (problem: Problem, inputs: string[] = [x]): LoweredNode => ({ kernels: [{ problem, nodes: [node], inputs, output: out }] });
  const fail = (why: string): never => {
    throw new LoweringError(`node '${node.name}' (${node.op}): ${why}`);
  };
  if (VIEW_OPS.has(node.op)) return { alias: x };
  if (node.op === 'cast') {
    const from = g.values.get(x)?.dtype;
    const to = castTarget(String(node.attrs.to));
    // Activations live as f32 on the GPU, so an f16 value is already exact in f32 storage.
    if (from === to || (from === 'f16' && to === 'f32')) return { alias: x };
    return fail(`cast from ${String(from)} to ${String(node.attrs.to)} is not supported on the GPU yet (only same-type and f16 -> f32 casts)`);
  }
  const shape = (): number[] => shapeOf(x);
  const reduceOp = REDUCE_OPS[node.op];
  if (reduceOp) {
    const s = shape();
    const axes = normalizeAxes(s.length, intsAttr(node.attrs, 'axes', []), node.op);
    if (typeof axes === 'string') throw new Error(`lower: node '${node.name}': ${axes}`);
    const st = stridesOf(s);
    const kept = s.map((_, d) => d).filter((d) => !axes.includes(d));
    return one({
      kind: 'reduce', op: reduceOp,
      keptShape: kept.map((d) => s[d] as number), keptStrides: kept.map((d) => st[d] as number),
      reducedShape: axes.map((d) => s[d] as number), reducedStrides: axes.map((d) => st[d] as number),
    });
  }
  if (node.op === 'softmax' || node.op === 'log_softmax') {
    const s = shape();
    const axis = normalizeAxis(s.length, numberAttr(node.attrs, 'axis', -1), node.op);
    if (typeof axis === 'string') throw new Error(`lower: node '${node.name}': ${axis}`);
    return one({
      kind: 'row-norm', op: node.op, outer: prod(s.slice(0, axis)), len: s[axis] as number, inner: prod(s.slice(axis + 1)),
      epsilon: 0, paramShape: [], scaleStrides: null, biasStrides: null,
    });
  }
  if (node.op === 'layer_norm' || node.op === 'rms_norm') {
    const s = shape();
    const axis = normAxis(s.length, node.attrs, node.op);
    if (typeof axis === 'string') throw new Error(`lower: node '${node.name}': ${axis}`);
    const paramShape = s.slice(axis);
    const [, scale, bias] = node.inputs;
    const inputs = [x, scale as string, ...(bias ? [bias] : [])];
    return one({
      kind: 'row-norm', op: node.op, outer: prod(s.slice(0, axis)), len: prod(paramShape), inner: 1,
      epsilon: numberAttr(node.attrs, 'epsilon', 1e-5), paramShape,
      scaleStrides: broadcastStrides(shapeOf(scale as string), paramShape),
      biasStrides: bias ? broadcastStrides(shapeOf(bias), paramShape) : null,
    }, inputs);
  }
  if (node.op === 'gather') {
    const s = shape();
    const ids = node.inputs[1] as string;
    const init = g.initializers.get(ids);
    if (!init) return fail(`indices '${ids}' must be a constant initializer; runtime i32 tensors are not supported on the GPU yet`);
    if (g.values.get(x)?.dtype !== 'f32') return fail(`data '${x}' must be f32 on the GPU, got ${String(g.values.get(x)?.dtype)}`);
    const axis = normalizeAxis(s.length, numberAttr(node.attrs, 'axis', 0), 'gather');
    if (typeof axis === 'string') throw new Error(`lower: node '${node.name}': ${axis}`);
    const axisLen = s[axis] as number;
    if (numel(init.shape) > MAX_BAKED_INDICES) return fail(`${numel(init.shape)} constant indices exceed the ${MAX_BAKED_INDICES} a kernel can bake in`);
    const indices = [...tensorToNd(init).data].map((i) => {
      const w = wrapIndex(i, axisLen);
      return typeof w === 'string' ? fail(w) : w;
    });
    return one({ kind: 'gather', outer: prod(s.slice(0, axis)), axisLen, inner: prod(s.slice(axis + 1)), indices });
  }
  return undefined;
};
