// A transposed conv whose stride equals its kernel (s x s, no padding, dilation 1, one group;
// the 2x upsampling of FPN/DB heads) touches each output pixel with exactly one tap, so it is a
// 1x1 conv to M·s² channels followed by depth_to_space (CRD): channel m·s² + ky·s + kx of the
// conv is output (m, y·s + ky, x·s + kx). The 1x1 conv runs on the GEMM-like conv kernels, the
// shuffle is one copy. Unary ops reading the result (activations, scalar affine) move before the
// shuffle, so the conv's epilogue absorbs them. Exact: the same products summed in the same order.

import type { Node } from '../../ir/graph.ts';
import { intsAttr, numberAttr } from '../../ir/graph.ts';
import { getOp } from '../../ir/op-table.ts';
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
      // Unary readers move before the shuffle (it only permutes elements).
      let out = n.outputs[0] as string;
      const chain: Node[] = [];
      for (let r = v.onlyReader(out); r && getOp(r.op)?.category === 'unary' && edit.untouched([r]); r = v.onlyReader(out)) {
        const next = edit.addValue(`${r.name}.cols`, convShape);
        nodes.push({ ...r, inputs: [cur], outputs: [next] });
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
