// conv2d_nbits: conv2d (NCHW) with W packed like matmul_nbits' W[N = Cout, K = C/groups*kH*kW] in
// the conv weight's (c, kh, kw) order, quantized along K in groups of `group` (last may be shorter).
// `group` is the *quantization* group (as in matmul_nbits, so nbitsAttrs and quant tooling read both
// ops alike); the conv's channel grouping is `groups`. f32 activations only (no act_bits).

import { intsAttr, numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { dequantize } from '../../quant/format.ts';
import { conv2dOp } from './conv.ts';
import { nbitsAttrs, packedOperandsError, packingError, quantizedWeightOf, type NBitsAttrs } from './matmul-nbits.ts';
import { tensorBytes } from './helpers.ts';

export interface ConvNBitsAttrs extends NBitsAttrs {
  readonly kH: number;
  readonly kW: number;
  /** Channel groups of the convolution (conv2d's `group`). */
  readonly groups: number;
}

export function convNBitsAttrs(attrs: Attrs): ConvNBitsAttrs {
  const ks = intsAttr(attrs, 'kernel_shape', [0, 0]);
  return { ...nbitsAttrs(attrs), kH: ks[0] ?? 0, kW: ks[1] ?? 0, groups: numberAttr(attrs, 'groups', 1) };
}

/** The attributes conv2d's reference and inference read (its `group` is our `groups`). */
export function conv2dAttrsOf(attrs: Attrs): Attrs {
  return {
    strides: intsAttr(attrs, 'strides', [1, 1]), pads: intsAttr(attrs, 'pads', [0, 0, 0, 0]),
    dilations: intsAttr(attrs, 'dilations', [1, 1]), group: numberAttr(attrs, 'groups', 1),
  };
}

function attrError(q: ConvNBitsAttrs, attrs: Attrs): string | null {
  const posInt = (v: number): boolean => Number.isInteger(v) && v >= 1;
  if (![q.N, q.K, q.group, q.kH, q.kW, q.groups].every(posInt)) {
    return `conv2d_nbits needs positive integer N, K, group, groups and kernel_shape, got N=${q.N} K=${q.K} group=${q.group} groups=${q.groups} kernel_shape=[${q.kH},${q.kW}]`;
  }
  const packing = packingError('conv2d_nbits', q.bits, stringAttr(attrs, 'layout', 'dense'));
  if (packing) return packing;
  if (q.actBits !== 0) return 'conv2d_nbits takes f32 activations only (act_bits must be 0)';
  if (q.K % (q.kH * q.kW) !== 0) return `conv2d_nbits: K=${q.K} is not a multiple of the kernel's ${q.kH}x${q.kW} taps`;
  if (q.N % q.groups !== 0) return `conv2d_nbits: ${q.N} output channels not divisible by groups ${q.groups}`;
  return null;
}

export const conv2dNBitsOp: OpDef = {
  name: 'conv2d_nbits', category: 'conv',
  doc: 'conv2d (NCHW) with W[N, K = C/groups*kH*kW] packed b-bit along K in groups (src/quant/format.ts)',
  inputs: { min: 4, max: 5 },
  attrs: {
    strides: { kind: 'ints', default: [1, 1] }, pads: { kind: 'ints', default: [0, 0, 0, 0] },
    dilations: { kind: 'ints', default: [1, 1] },
    groups: { kind: 'int', default: 1, doc: "the conv's channel groups (conv2d's `group`)" },
    kernel_shape: { kind: 'ints', doc: '[kH, kW]' },
    N: { kind: 'int', doc: 'output channels (rows of W)' },
    K: { kind: 'int', doc: '(C / groups) * kH * kW (columns of W, order c, kh, kw)' },
    bits: { kind: 'int', doc: 'code width 1..8' },
    group: { kind: 'int', doc: 'elements per quantization group along K (last group may be shorter)' },
    layout: { kind: 'string', default: 'dense', doc: '"dense" bit stream per row or "planes" (bit-plane major)' },
    levels: { kind: 'int', doc: 'informational: levels actually used (5 for 2-bit bit balance)' },
  },
  infer(ins, attrs) {
    const [x, w, s, z, c] = ins as TensorType[];
    if (!x || !w || !s || !z) return 'conv2d_nbits needs X, words, scales and zeros';
    const q = convNBitsAttrs(attrs);
    const bad = attrError(q, attrs);
    if (bad) return bad;
    if (x.dtype !== 'f32' || x.shape.length !== 4) return `conv2d_nbits needs f32 X of rank 4, got ${String(x.dtype)}[${x.shape.join(',')}]`;
    const badOperand = packedOperandsError('conv2d_nbits', q, w, s, z);
    if (badOperand) return badOperand;
    // The rest (channels vs groups, bias, output size) is conv2d's inference on the unpacked view.
    const wView: TensorType = { dtype: 'f32', shape: [q.N, q.K / (q.kH * q.kW), q.kH, q.kW] };
    const r = conv2dOp.infer(c ? [x, wView, c] : [x, wView], conv2dAttrsOf(attrs));
    return typeof r === 'string' ? r.replace(/^conv2d/, 'conv2d_nbits').replace(/group (\d+)/, 'groups $1') : r;
  },
  reference(ins, attrs) {
    const [x, w, s, z, c] = ins as NdArray[];
    const q = convNBitsAttrs(attrs);
    const W = dequantize(quantizedWeightOf(w as NdArray, s as NdArray, z as NdArray, q));
    const wt = ndarray([q.N, q.K / (q.kH * q.kW), q.kH, q.kW], W);
    return conv2dOp.reference(c ? [x as NdArray, wt, c] : [x as NdArray, wt], conv2dAttrsOf(attrs));
  },
  cost(ins, outs, attrs) {
    const o = outs[0] as TensorType;
    const q = convNBitsAttrs(attrs);
    // Words are u32, so tensorBytes counts the packed size, not N*K floats.
    return { flops: isConcrete(o.shape) ? 2 * numel(o.shape) * q.K : 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
