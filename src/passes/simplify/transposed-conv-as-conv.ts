// A transposed conv whose stride equals its kernel (s x s, no padding, dilation 1, one group;
// the 2x upsampling of FPN/DB heads) touches each output pixel with exactly one tap, so it is a
// 1x1 conv to M·s² channels followed by depth_to_space (CRD): channel m·s² + ky·s + kx of the
// conv is output (m, y·s + ky, x·s + kx). The 1x1 conv runs on the GEMM-like conv kernels, the
// shuffle is one copy. Unary ops and per-channel mul/add reading the result (activations, bias,
// BatchNorm) move before the shuffle, where bias-fusion and the conv's epilogue absorb them.
// Exact: the same products summed in the same order; moved ops see the same values.

import type { Node } from '../../ir/graph.ts';
import { intsAttr, numberAttr } from '../../ir/graph.ts';
import { getOp } from '../../ir/op-table.ts';
import { sameShape } from '../../ir/shape.ts';
import { tensor } from '../../ir/tensor.ts';
import type { Pass } from '../pass.ts';
import { GraphEdit, viewOf, type GraphView } from './pattern-util.ts';

/** The stride s when `n` is a stride-equals-kernel transposed conv we can rewrite, else 0. */
function blockOf(v: GraphView, n: Node): number {
  const w = v.f32Const(n.inputs[1]);
  const s = intsAttr(n.attrs, 'strides', [1, 1]);
  const ok = w && w.shape.length === 4 && s[0] === s[1] && w.shape[2] === s[0] && w.shape[3] === s[1]
    && intsAttr(n.attrs, 'pads', [0, 0, 0, 0]).every((p) => p === 0) && intsAttr(n.attrs, 'dilations', [1, 1]).every((d) => d === 1)
    && intsAttr(n.attrs, 'output_padding', [0, 0]).every((d) => d === 0) && numberAttr(n.attrs, 'group', 1) === 1
    && (n.inputs[2] === undefined || v.f32Const(n.inputs[2])) && v.g.values.get(n.inputs[0] as string)?.dtype === 'f32';
  return ok ? (s[0] as number) : 0;
}

/** Inputs of mul/add `r` (reading `x`) by a per-channel constant over M channels, the constant
 *  spread over M·s² conv channels and `cur` in place of `x`; undefined for any other node. */
function perChannel(v: GraphView, edit: GraphEdit, r: Node, x: string, M: number, ss: number, cur: string): string[] | undefined {
  if ((r.op !== 'mul' && r.op !== 'add') || r.inputs.length !== 2) return undefined;
  const other = r.inputs[0] === x ? r.inputs[1] : r.inputs[0];
  const c = v.f32Const(other);
  const xs = v.shape(x);
  if (!c || other === x || !xs || !sameShape(v.shape(r.outputs[0] as string) ?? [], xs)) return undefined;
  // Right-aligned against [N, M, H, W]: only the channel axis (3rd from the end) may exceed 1.
  const cs = c.shape as readonly number[];
  if (cs.length > 4 || cs.some((d, i) => d !== 1 && !(i === cs.length - 3 && d === M))) return undefined;
  const per = (m: number): number => (c.data.length === 1 ? (c.data[0] as number) : (c.data[m] as number));
  const spread = edit.addConst(`${other}.cols`, tensor('f32', [M * ss, 1, 1], Float32Array.from({ length: M * ss }, (_, i) => per(Math.floor(i / ss)))));
  return r.inputs[0] === x ? [cur, spread] : [spread, cur];
}

export const transposedConvAsConv: Pass = {
  name: 'transposed-conv-as-conv',
  run(g) {
    const v = viewOf(g);
    const edit = new GraphEdit(g);
    for (const n of g.nodes) {
      if (n.op !== 'conv_transpose2d') continue;
      const s = blockOf(v, n);
      const xs = v.shape(n.inputs[0] as string);
      if (!s || !xs || !edit.untouched([n])) continue;
      const W = v.f32Const(n.inputs[1]) as NonNullable<ReturnType<GraphView['f32Const']>>;
      const [C, M] = W.shape as [number, number, number, number];
      const [N, , H, Wd] = xs as [number, number, number, number];
      const ss = s * s;
      // Conv weight [M·s², C, 1, 1]: row m·s² + ky·s + kx holds W[c, m, ky, kx] over c.
      const cw = new Float32Array(M * ss * C);
      for (let c = 0; c < C; c++) for (let r = 0; r < M * ss; r++) cw[r * C + c] = W.data[c * M * ss + r] as number;
      const ins = [n.inputs[0] as string, edit.addConst(`${n.inputs[1]}.as_conv`, tensor('f32', [M * ss, C, 1, 1], cw))];
      const B = n.inputs[2] === undefined ? undefined : v.f32Const(n.inputs[2]);
      if (B) ins.push(edit.addConst(`${n.inputs[2]}.as_conv`, tensor('f32', [M * ss], Float32Array.from({ length: M * ss }, (_, r) => B.data[Math.floor(r / ss)] as number))));
      const loc = n.loc ? { loc: n.loc } : {};
      const convShape = { dtype: 'f32' as const, shape: [N, M * ss, H, Wd] };
      let cur = edit.addValue(`${n.name}.cols`, convShape);
      const nodes: Node[] = [{ name: n.name, op: 'conv2d', inputs: ins, outputs: [cur], attrs: {}, ...loc }];
      // Unary readers and per-channel mul/add move before the shuffle (it only permutes elements;
      // channel m becomes channels m·s²..m·s²+s²-1), where bias-fusion and epilogues absorb them.
      let out = n.outputs[0] as string;
      const chain: Node[] = [];
      for (let r = v.onlyReader(out); r && edit.untouched([r]); r = v.onlyReader(out)) {
        const ins2 = getOp(r.op)?.category === 'unary' ? [cur] : perChannel(v, edit, r, out, M, ss, cur);
        if (!ins2) break;
        const next = edit.addValue(`${r.name}.cols`, convShape);
        nodes.push({ ...r, inputs: ins2, outputs: [next] });
        chain.push(r);
        cur = next;
        out = r.outputs[0] as string;
      }
      nodes.push({ name: edit.freshNode(`${n.name}.shuffle`), op: 'depth_to_space', inputs: [cur], outputs: [out], attrs: { blocksize: s, mode: 'CRD' }, ...loc });
      edit.replace(chain[chain.length - 1] ?? n, chain.length ? [n, ...chain.slice(0, -1)] : [], nodes);
    }
    if (!edit.count) return { graph: g, changed: false };
    return { graph: edit.apply(), changed: true, stats: { rewritten: edit.count } };
  },
};
