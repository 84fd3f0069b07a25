// quantize_act: X f32[..., K] -> u32[..., 2 + W], per-token (per-row) dynamic asymmetric
// quantization to `bits` (2..8) in a packed `layout`; the row format and rounding rules are
// src/quant/act.ts's. Its output feeds matmul_nbits with act_bits = bits (the WxAy path).

import { numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { actRowWords, checkActBits, packActRows } from '../../quant/act.ts';
import type { PackedLayout } from '../../quant/format.ts';
import { tensorBytes } from './helpers.ts';

export interface ActQuantAttrs {
  readonly bits: number;
  readonly layout: PackedLayout;
}

export function actQuantAttrs(attrs: Attrs): ActQuantAttrs {
  return { bits: numberAttr(attrs, 'bits', 8), layout: stringAttr(attrs, 'layout', 'planes') === 'dense' ? 'dense' : 'planes' };
}

export const quantizeActOp: OpDef = {
  name: 'quantize_act', category: 'matmul',
  doc: 'per-row dynamic asymmetric quantization of X[..., K] to packed u32 rows [scale bits, zero, codes] (src/quant/act.ts)',
  inputs: { min: 1, max: 1 },
  attrs: {
    bits: { kind: 'int', default: 8, doc: 'code width 2..8' },
    layout: { kind: 'string', default: 'planes', doc: '"planes" (popcount kernels) or "dense" (8 bits: dot4 kernels)' },
  },
  infer(ins, attrs) {
    const x = ins[0] as TensorType;
    const a = actQuantAttrs(attrs);
    const bad = checkActBits(a.bits);
    if (bad) return `quantize_act: ${bad}`;
    const layout = stringAttr(attrs, 'layout', 'planes');
    if (layout !== 'planes' && layout !== 'dense') return `quantize_act layout must be "planes" or "dense", got "${layout}"`;
    if (x.dtype !== 'f32') return `quantize_act needs f32 X, got ${String(x.dtype)}`;
    if (x.shape.length < 1) return 'quantize_act needs X of rank >= 1';
    const K = x.shape[x.shape.length - 1] as Dim;
    if (typeof K !== 'number') return 'quantize_act needs a concrete last dimension';
    return [{ dtype: 'u32', shape: [...x.shape.slice(0, -1), actRowWords(K, a.bits, a.layout)] }];
  },
  reference(ins, attrs) {
    const x = ins[0] as NdArray;
    const a = actQuantAttrs(attrs);
    const K = x.shape[x.shape.length - 1] as number;
    const rows = numel(x.shape) / K;
    const words = packActRows(x.data, rows, K, a.bits, a.layout);
    const out = ndarray([...x.shape.slice(0, -1), actRowWords(K, a.bits, a.layout)]);
    for (let i = 0; i < words.length; i++) out.data[i] = words[i] as number;
    return [out];
  },
  cost(ins, outs) {
    const o = outs[0] as TensorType;
    return { flops: isConcrete(o.shape) ? 4 * numel((ins[0] as TensorType).shape as number[]) : 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
