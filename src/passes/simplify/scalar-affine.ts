// Scalar affine: mul, add or sub of an f32 tensor and a one-element f32 constant (PP-LCNet's
// "learnable affine blocks" scale * hardswish(conv(x)) + bias, attention's q * scale) becomes the
// unary op affine {scale, shift}, so conv/matmul epilogues and elementwise chains absorb it instead
// of it costing a dispatch that re-reads the tensor. Exact: x * c, x + c, x - c and c - x are
// x * scale + shift with scale 1 or -1, or shift -0. Division is left alone (x / c is not x * (1 / c)).
// Runs after the pattern fusions (hardswish-fusion and bias-fusion look for these mul/add nodes).

import type { Node } from '../../ir/graph.ts';
import { numel, sameShape } from '../../ir/shape.ts';
import type { Pass } from '../pass.ts';
import { GraphEdit, viewOf } from './pattern-util.ts';

/** {scale, shift} of `x op c` (or `c op x` when `constFirst`). */
function affineOf(op: string, c: number, constFirst: boolean): { scale: number; shift: number } | undefined {
  // -0, not 0: y + (-0) is y for every y, signed zeros included (x * c may be -0).
  if (op === 'mul') return { scale: c, shift: -0 };
  if (op === 'add') return { scale: 1, shift: c };
  if (op === 'sub') return constFirst ? { scale: -1, shift: c } : { scale: 1, shift: -c };
  return undefined;
}

export const scalarAffine: Pass = {
  name: 'scalar-affine',
  run(g) {
    const v = viewOf(g);
    const edit = new GraphEdit(g);
    for (const n of g.nodes) {
      if (n.op !== 'mul' && n.op !== 'add' && n.op !== 'sub') continue;
      const [a, b] = n.inputs as [string, string];
      const ca = v.f32Const(a);
      const cb = v.f32Const(b);
      // Exactly one operand is a one-element constant; the other already has the output's shape.
      const constFirst = !!ca && numel(ca.shape) === 1 && !(cb && numel(cb.shape) === 1);
      const c = constFirst ? ca : cb;
      const x = constFirst ? b : a;
      const out = n.outputs[0] as string;
      const xt = g.values.get(x);
      const ot = g.values.get(out);
      if (!c || numel(c.shape) !== 1 || v.f32Const(x) || !xt || !ot || xt.dtype !== 'f32' || !sameShape(xt.shape, ot.shape)) continue;
      const attrs = affineOf(n.op, c.data[0] as number, constFirst);
      if (!attrs) continue;
      const node: Node = { name: n.name, op: 'affine', inputs: [x], outputs: [out], attrs, ...(n.loc ? { loc: n.loc } : {}) };
      edit.replace(n, [], [node]);
    }
    if (!edit.count) return { graph: g, changed: false };
    return { graph: edit.apply(), changed: true, stats: { affine: edit.count } };
  },
};
