// matmul_nbits: Y[..., M, N] = A[..., M, K] · dequant(W)^T (+ C[N]), W[N, K] stored packed
// (src/quant/format.ts): words u32[...], scales and zeros f32 [N, ceil(K / group)]. Attributes
// N, K, bits, group and layout fix the packing; `levels` is informational (5 for 2-bit "bit
// balance" stored as 3-bit codes). C, when given, is one row [N].
// With act_bits = 0 (the default) A is f32. With act_bits = q > 0, A is quantize_act's output
// (u32[..., 2 + W]: per-row scale, zero and q-bit codes in `act_layout`, src/quant/act.ts) and
// Y[m, n] = sa[m] * sum_g sw[n, g] * sum_{k in g} (qa[m, k] - za[m]) * (qw[n, k] - zw[n, g]) (+ C[n]):
// the integer products are what the popcount and dot4 kernels compute exactly.

import { numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { dequantize, denseRowWords, groupsPerRow, planeRowWords, unpackCodes, type PackedLayout, type QuantizedWeight } from '../../quant/format.ts';
import { actRowWords, checkActBits, unpackActRows } from '../../quant/act.ts';
import { tensorBytes } from './helpers.ts';

export interface NBitsAttrs {
  readonly N: number;
  readonly K: number;
  readonly bits: number;
  readonly group: number;
  readonly layout: PackedLayout;
  /** 0: f32 activations; else A is quantize_act output of this width. */
  readonly actBits: number;
  readonly actLayout: PackedLayout;
}

export function nbitsAttrs(attrs: Attrs): NBitsAttrs {
  const layout = stringAttr(attrs, 'layout', 'dense');
  return {
    N: numberAttr(attrs, 'N', 0), K: numberAttr(attrs, 'K', 0), bits: numberAttr(attrs, 'bits', 0),
    group: numberAttr(attrs, 'group', 0), layout: layout === 'planes' ? 'planes' : 'dense',
    actBits: numberAttr(attrs, 'act_bits', 0), actLayout: stringAttr(attrs, 'act_layout', 'planes') === 'dense' ? 'dense' : 'planes',
  };
}

/** Number of u32 words the packed weight of these attributes occupies. */
export function packedWords(a: NBitsAttrs): number {
  return a.layout === 'dense' ? a.N * denseRowWords(a.K, a.bits) : a.bits * a.N * planeRowWords(a.K);
}

/** Why op `op`'s code width or packed layout attribute is invalid, or null. */
export function packingError(op: string, bits: number, layout: string): string | null {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) return `${op} needs bits in 1..8, got ${bits}`;
  if (layout !== 'dense' && layout !== 'planes') return `${op} layout must be "dense" or "planes", got "${layout}"`;
  return null;
}

function attrError(a: NBitsAttrs, layout: string): string | null {
  const posInt = (v: number): boolean => Number.isInteger(v) && v >= 1;
  if (!posInt(a.N) || !posInt(a.K) || !posInt(a.group)) return `matmul_nbits needs positive integer N, K and group, got N=${a.N} K=${a.K} group=${a.group}`;
  const packing = packingError('matmul_nbits', a.bits, layout);
  if (packing) return packing;
  if (a.actBits !== 0) {
    const bad = checkActBits(a.actBits);
    if (bad) return `matmul_nbits: ${bad} (or 0 for f32 activations)`;
  }
  return null;
}

const sameDims = (s: readonly Dim[], want: readonly number[]): boolean => s.length === want.length && s.every((d, i) => d === want[i]);

/** Why the packed operands (words, scales, zeros) do not fit attributes `q`, named as op `op`; null when they do. */
export function packedOperandsError(op: string, q: NBitsAttrs, w: TensorType, s: TensorType, z: TensorType): string | null {
  if (w.dtype !== 'u32' || !sameDims(w.shape, [packedWords(q)])) return `${op} words must be u32[${packedWords(q)}] for N=${q.N} K=${q.K} bits=${q.bits} ${q.layout}, got ${String(w.dtype)}[${w.shape.join(',')}]`;
  const sg = [q.N, groupsPerRow(q.K, q.group)];
  for (const [what, t] of [['scales', s], ['zeros', z]] as const) {
    if (t.dtype !== 'f32' || !sameDims(t.shape, sg)) return `${op} ${what} must be f32[${sg.join(',')}], got ${String(t.dtype)}[${t.shape.join(',')}]`;
  }
  return null;
}

/** The packed weight an op instance reads, rebuilt from its (float64) input arrays. */
export function quantizedWeightOf(words: NdArray, scales: NdArray, zeros: NdArray, a: NBitsAttrs): QuantizedWeight {
  return { ...a, words: Uint32Array.from(words.data), scales: Float32Array.from(scales.data), zeros: Float32Array.from(zeros.data) };
}

/** The WxAy reference: integer code products per group, scaled in float64. */
function quantizedActReference(x: NdArray, w: QuantizedWeight, q: NBitsAttrs, c: NdArray | undefined): NdArray {
  const { N, K, group } = q;
  const rw = actRowWords(K, q.actBits, q.actLayout);
  const rows = numel(x.shape) / rw;
  const acts = unpackActRows(x.data, rows, K, q.actBits, q.actLayout);
  const wc = unpackCodes(w.words, N, K, w.bits, w.layout);
  const G = groupsPerRow(K, group);
  const out = ndarray([...x.shape.slice(0, -1), N]);
  for (let m = 0; m < rows; m++) {
    const ar = acts[m] as { scale: number; zero: number; codes: Uint8Array };
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let g = 0; g < G; g++) {
        const zw = w.zeros[n * G + g] as number;
        let dot = 0;
        for (let k = g * group; k < Math.min(K, (g + 1) * group); k++) dot += ((ar.codes[k] as number) - ar.zero) * ((wc[n * K + k] as number) - zw);
        acc += (w.scales[n * G + g] as number) * dot;
      }
      out.data[m * N + n] = ar.scale * acc + (c ? (c.data[n] as number) : 0);
    }
  }
  return out;
}

export const matmulNBitsOp: OpDef = {
  name: 'matmul_nbits', category: 'matmul',
  doc: 'A[..., M, K] x dequant(W[N, K])^T (+ C[N]); W packed b-bit along K in groups (src/quant/format.ts)',
  inputs: { min: 4, max: 5 },
  attrs: {
    N: { kind: 'int', doc: 'output features (rows of W)' },
    K: { kind: 'int', doc: 'input features (columns of W)' },
    bits: { kind: 'int', doc: 'code width 1..8' },
    group: { kind: 'int', doc: 'elements per quantization group along K (last group may be shorter)' },
    layout: { kind: 'string', default: 'dense', doc: '"dense" bit stream per row or "planes" (bit-plane major)' },
    act_bits: { kind: 'int', default: 0, doc: '0: f32 A; 2..8: A is quantize_act output of this width' },
    act_layout: { kind: 'string', default: 'planes', doc: 'with act_bits: the quantize_act layout of A' },
    levels: { kind: 'int', doc: 'informational: levels actually used (5 for 2-bit bit balance)' },
  },
  infer(ins, attrs) {
    const [a, w, s, z, c] = ins as TensorType[];
    if (!a || !w || !s || !z) return 'matmul_nbits needs A, words, scales and zeros';
    const q = nbitsAttrs(attrs);
    const bad = attrError(q, stringAttr(attrs, 'layout', 'dense'));
    if (bad) return bad;
    if (a.shape.length < 2) return `matmul_nbits needs A of rank >= 2, got rank ${a.shape.length}`;
    const k = a.shape[a.shape.length - 1] as Dim;
    if (q.actBits === 0) {
      if (a.dtype !== 'f32') return `matmul_nbits needs f32 A, got ${String(a.dtype)}`;
      if (k !== q.K) return `matmul_nbits: A has K=${k}, attribute K=${q.K}`;
    } else {
      const rw = actRowWords(q.K, q.actBits, q.actLayout);
      if (a.dtype !== 'u32' || k !== rw) return `matmul_nbits with act_bits=${q.actBits} needs A as quantize_act rows u32[..., ${rw}] (K=${q.K}, ${q.actLayout}), got ${String(a.dtype)}[${a.shape.join(',')}]`;
    }
    const badOperand = packedOperandsError('matmul_nbits', q, w, s, z);
    if (badOperand) return badOperand;
    if (c && (c.dtype !== 'f32' || !sameDims(c.shape, [q.N]))) return `matmul_nbits bias must be f32[${q.N}], got ${String(c.dtype)}[${c.shape.join(',')}]`;
    return [{ dtype: 'f32', shape: [...a.shape.slice(0, -1), q.N] }];
  },
  reference(ins, attrs) {
    const [a, w, s, z, c] = ins as NdArray[];
    const q = nbitsAttrs(attrs);
    const x = a as NdArray;
    const qw = quantizedWeightOf(w as NdArray, s as NdArray, z as NdArray, q);
    const { N, K } = q;
    if (q.actBits > 0) return [quantizedActReference(x, qw, q, c)];
    const W = dequantize(qw);
    const rows = numel(x.shape) / K;
    const out = ndarray([...x.shape.slice(0, -1), N]);
    for (let m = 0; m < rows; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += (x.data[m * K + k] as number) * (W[n * K + k] as number);
        out.data[m * N + n] = acc + (c ? (c.data[n] as number) : 0);
      }
    }
    return [out];
  },
  cost(ins, outs, attrs) {
    const q = nbitsAttrs(attrs);
    const o = outs[0] as TensorType;
    const rows = isConcrete(o.shape) ? numel(o.shape) / q.N : 0;
    // With act_bits the FLOPs are integer multiply-adds on codes; counted the same.
    // Words are u32, so tensorBytes already counts the packed size, not N*K floats.
    return { flops: 2 * rows * q.N * q.K, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
