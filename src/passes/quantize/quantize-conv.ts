// conv2d with a constant f32 weight W[M, C/g, kH, kW] -> conv2d_nbits over W viewed as [M, K]
// (K = C/g * kH * kW, the weight's own row-major order, so no data moves before quantizing).
// The caller (quantize-pass.ts) decides which layers and with which options; a weight read by
// several convs is packed once per pass run. Depthwise convs stay float (see DEPTHWISE_REASON).

import type { Node } from '../../ir/graph.ts';
import { convParams } from '../../ir/ops/conv.ts';
import { tensor } from '../../ir/tensor.ts';
import type { GraphEdit, GraphView } from '../simplify/pattern-util.ts';
import { quantizeMatrix, type WeightQuantOptions } from './quantizer.ts';

/**
 * Why depthwise convs are not quantized: with one input channel per group, K = kH*kW (9) is a
 * tiny row: word-aligned rows plus a scale and zero per row leave ≤ 2.25x compression at 4 bits,
 * and the implicit-GEMM kernel would waste its M tile where the float direct kernel does well.
 */
export const DEPTHWISE_REASON = 'depthwise conv2d stays float (K = kH*kW rows compress poorly; the float direct kernel serves it better)';

export interface ConvQuantResult {
  /** Bytes of the f32 weight replaced and of the packed words + scales + zeros (0 when reused). */
  readonly floatBytes: number;
  readonly packedBytes: number;
}

interface Packed { readonly words: string; readonly scales: string; readonly zeros: string; readonly levels: number; readonly bits: number; readonly group: number }

// Per pass run (one GraphEdit): weights already packed, keyed by weight name and options.
const packedByEdit = new WeakMap<GraphEdit, Map<string, Packed>>();

/** The reason `n` (a conv2d) cannot become conv2d_nbits, or undefined. */
export function convQuantProblem(v: GraphView, n: Node): string | undefined {
  const [x, wName] = n.inputs;
  const w = v.f32Const(wName);
  const sx = v.shape(x ?? '');
  if (!x || !w || w.shape.length !== 4 || !sx || sx.length !== 4 || v.g.values.get(x)?.dtype !== 'f32') return 'needs f32 X and a constant 4-D f32 weight';
  const group = convParams(n.attrs).group;
  if (group > 1 && w.shape[1] === 1) return DEPTHWISE_REASON;
  return undefined;
}

/** Replaces conv2d `n` by conv2d_nbits in `edit`; a reason string when it stays float. */
export function quantizeConv(v: GraphView, edit: GraphEdit, n: Node, o: WeightQuantOptions): ConvQuantResult | string {
  const bad = convQuantProblem(v, n);
  if (bad) return bad;
  const [x, wName, bias] = n.inputs as [string, string, string | undefined];
  const w = v.f32Const(wName);
  if (!w) throw new Error(`quantize-conv: node '${n.name}' lost its constant weight`);
  const [M, Cg, kH, kW] = w.shape as [number, number, number, number];
  const K = Cg * kH * kW;
  const p = convParams(n.attrs);
  const layout = o.layout ?? 'dense';
  let cache = packedByEdit.get(edit);
  if (!cache) packedByEdit.set(edit, (cache = new Map()));
  const key = `${wName}|${JSON.stringify(o)}`;
  let q = cache.get(key);
  let packedBytes = 0;
  if (!q) {
    const qm = quantizeMatrix(w.data, M, K, { ...o, layout });
    const qw = qm.weight;
    q = {
      words: edit.addConst(`${wName}.q${qw.bits}`, tensor('u32', [qw.words.length], qw.words)),
      scales: edit.addConst(`${wName}.scales`, tensor('f32', [M, qw.scales.length / M], qw.scales)),
      zeros: edit.addConst(`${wName}.zeros`, tensor('f32', [M, qw.zeros.length / M], qw.zeros)),
      levels: qm.levels, bits: qw.bits, group: qw.group,
    };
    cache.set(key, q);
    packedBytes = (qw.words.length + qw.scales.length + qw.zeros.length) * 4;
  }
  edit.replace(n, [n], [{
    name: n.name, op: 'conv2d_nbits', inputs: [x, q.words, q.scales, q.zeros, ...(bias ? [bias] : [])], outputs: n.outputs,
    attrs: {
      strides: [...p.strides], pads: [...p.pads], dilations: [...p.dilations], groups: p.group, kernel_shape: [kH, kW],
      N: M, K, bits: q.bits, group: q.group, layout, levels: q.levels,
    },
    ...(n.loc ? { loc: n.loc } : {}),
  }]);
  return { floatBytes: packedBytes ? M * K * 4 : 0, packedBytes };
}
