// Bias/affine fusion, saving an elementwise dispatch: matmul(A, B[K,N]) or C-less gemm, then +
// an f32 constant row ([N], [1,N], [1]), becomes gemm with C (A of rank > 2 via reshape aliases);
// conv2d then * or + a per-channel f32 constant folds into new conv weights/bias (decomposed
// BatchNorm). Needs constant conv weights; results differ from the chain by float rounding.

import type { Node } from '../../ir/graph.ts';
import { numel, sameShape } from '../../ir/shape.ts';
import { tensor, type Tensor } from '../../ir/tensor.ts';
import type { Pass } from '../pass.ts';
import { GraphEdit, otherInput, viewOf, type GraphView } from './pattern-util.ts';

/** `c` as a GEMM C operand for an [*, N] result: its data as [N] or [1], else undefined. */
function rowBias(c: Tensor | undefined, N: number): Tensor | undefined {
  if (!c) return undefined;
  const s = c.shape as readonly number[];
  const last = s.length ? (s[s.length - 1] as number) : 1;
  if (s.slice(0, -1).some((d) => d !== 1) || (last !== N && last !== 1)) return undefined;
  return s.length === 1 ? c : tensor('f32', [last], c.data);
}

/** Per-output-channel values of `c` for an [n, M, h, w] conv result, or undefined. */
function channelValues(c: Tensor | undefined, M: number): Float32Array | undefined {
  if (!c) return undefined;
  const s = c.shape as readonly number[];
  // Right-aligned against [n, M, h, w]: the channel dim is 3rd from the end.
  const chAt = s.length - 3;
  const fits = s.every((d, i) => d === 1 || (i === chAt && d === M));
  if (!fits || s.length > 4) return undefined;
  const per = numel(s) === 1 ? () => c.data[0] as number : (m: number) => c.data[m] as number;
  return Float32Array.from({ length: M }, (_, m) => per(m));
}

/** The add reading `v` (its only reader) with an f32 constant operand, and that constant. */
function constReader(v: GraphView, out: string, op: 'add' | 'mul'): { node: Node; c: Tensor } | undefined {
  const r = v.onlyReader(out);
  const c = r && r.op === op ? v.f32Const(otherInput(r, out)) : undefined;
  const rs = r && v.shape(r.outputs[0] as string);
  const os = v.shape(out);
  if (!r || !c || !rs || !os || !sameShape(rs, os)) return undefined;
  return { node: r, c };
}

function fuseGemm(v: GraphView, edit: GraphEdit, n: Node): boolean {
  const [a, b, c0] = n.inputs as [string, string, string | undefined];
  const sa = v.shape(a);
  const sb = v.shape(b);
  const so = v.shape(n.outputs[0] as string);
  if (!sa || !sb || !so || sb.length !== 2 || !g32(v, a)) return false;
  if (n.op === 'gemm' && c0) return false;
  if (n.op === 'matmul' && sa.length < 2) return false;
  const N = so[so.length - 1] as number;
  const hit = constReader(v, n.outputs[0] as string, 'add');
  const bias = rowBias(hit?.c, N);
  if (!hit || !bias || !edit.untouched([n, hit.node])) return false;
  const cName = edit.addConst(`${hit.node.name}.bias`, bias);
  const out = hit.node.outputs[0] as string;
  const loc = hit.node.loc ? { loc: hit.node.loc } : {};
  if (n.op === 'gemm') {
    const attrs = { ...n.attrs, beta: 1 };
    edit.replace(hit.node, [n], [{ name: n.name, op: 'gemm', inputs: [a, b, cName], outputs: [out], attrs, ...loc }]);
    return true;
  }
  if (sa.length === 2) {
    edit.replace(hit.node, [n], [{ name: n.name, op: 'gemm', inputs: [a, b, cName], outputs: [out], attrs: {}, ...loc }]);
    return true;
  }
  // Batch dims of A fold into M: reshape (an alias in lowering) -> gemm -> reshape back.
  const K = sa[sa.length - 1] as number;
  const rows = numel(sa) / K;
  const a2 = edit.addValue(`${n.name}.a2d`, { dtype: 'f32', shape: [rows, K] });
  const y2 = edit.addValue(`${n.name}.y2d`, { dtype: 'f32', shape: [rows, N] });
  edit.replace(hit.node, [n], [
    { name: edit.freshNode(`${n.name}.a2d`), op: 'reshape', inputs: [a], outputs: [a2], attrs: { shape: [rows, K] } },
    { name: n.name, op: 'gemm', inputs: [a2, b, cName], outputs: [y2], attrs: {}, ...loc },
    { name: edit.freshNode(`${n.name}.unflatten`), op: 'reshape', inputs: [y2], outputs: [out], attrs: { shape: [...so] } },
  ]);
  return true;
}

function g32(v: GraphView, x: string): boolean {
  return v.g.values.get(x)?.dtype === 'f32';
}

function fuseConv(v: GraphView, edit: GraphEdit, n: Node): boolean {
  const [x, w, b] = n.inputs as [string, string, string | undefined];
  const W = v.f32Const(w);
  const B = b ? v.f32Const(b) : undefined;
  const so = v.shape(n.outputs[0] as string);
  if (!W || (b && !B) || !so || !g32(v, x)) return false;
  const M = so[1] as number;
  const mul = constReader(v, n.outputs[0] as string, 'mul');
  const add = mul ? undefined : constReader(v, n.outputs[0] as string, 'add');
  const hit = mul ?? add;
  const ch = channelValues(hit?.c, M);
  if (!hit || !ch || !edit.untouched([n, hit.node])) return false;
  let wData = W.data;
  const bData = B ? Float32Array.from(B.data) : new Float32Array(M);
  if (mul) {
    const per = W.data.length / M;
    wData = Float32Array.from(W.data, (val, i) => val * (ch[Math.floor(i / per)] as number));
    for (let m = 0; m < M; m++) bData[m] = (bData[m] as number) * (ch[m] as number);
  } else {
    for (let m = 0; m < M; m++) bData[m] = (bData[m] as number) + (ch[m] as number);
  }
  const wName = mul ? edit.addConst(`${w}.scaled`, tensor('f32', W.shape as number[], wData)) : w;
  const bName = mul && !B ? '' : edit.addConst(`${n.name}.bias`, tensor('f32', [M], bData));
  const inputs = bName ? [x, wName, bName] : [x, wName];
  const loc = n.loc ? { loc: n.loc } : {};
  edit.replace(hit.node, [n], [{ name: n.name, op: 'conv2d', inputs, outputs: hit.node.outputs, attrs: n.attrs, ...loc }]);
  return true;
}

export const biasFusion: Pass = {
  name: 'bias-fusion',
  run(g) {
    const v = viewOf(g);
    const edit = new GraphEdit(g);
    const stats = { gemm: 0, conv: 0 };
    for (const n of g.nodes) {
      if ((n.op === 'matmul' || n.op === 'gemm') && fuseGemm(v, edit, n)) stats.gemm++;
      else if (n.op === 'conv2d' && fuseConv(v, edit, n)) stats.conv++;
    }
    if (!edit.count) return { graph: g, changed: false };
    return { graph: edit.apply(), changed: true, stats };
  },
};
