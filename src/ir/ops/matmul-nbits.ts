// matmul_nbits: Y[..., M, N] = A[..., M, K] · dequant(W)^T (+ C[N]), W[N, K] stored packed
// (src/quant/format.ts): words u32[...], scales and zeros f32 [N, ceil(K / group)]. Attributes
// N, K, bits, group and layout fix the packing; `levels` is informational (5 for 2-bit "bit
// balance" stored as 3-bit codes). Only f32 activations; C, when given, is one row [N].

import { numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { dequantize, denseRowWords, groupsPerRow, planeRowWords, type PackedLayout, type QuantizedWeight } from '../../quant/format.ts';
import { tensorBytes } from './helpers.ts';

export interface NBitsAttrs {
  readonly N: number;
  readonly K: number;
  readonly bits: number;
  readonly group: number;
  readonly layout: PackedLayout;
}

export function nbitsAttrs(attrs: Attrs): NBitsAttrs {
  const layout = stringAttr(attrs, 'layout', 'dense');
  return {
    N: numberAttr(attrs, 'N', 0), K: numberAttr(attrs, 'K', 0), bits: numberAttr(attrs, 'bits', 0),
    group: numberAttr(attrs, 'group', 0), layout: layout === 'planes' ? 'planes' : 'dense',
  };
}

/** Number of u32 words the packed weight of these attributes occupies. */
export function packedWords(a: NBitsAttrs): number {
  return a.layout === 'dense' ? a.N * denseRowWords(a.K, a.bits) : a.bits * a.N * planeRowWords(a.K);
}

function attrError(a: NBitsAttrs, layout: string): string | null {
  const posInt = (v: number): boolean => Number.isInteger(v) && v >= 1;
  if (!posInt(a.N) || !posInt(a.K) || !posInt(a.group)) return `matmul_nbits needs positive integer N, K and group, got N=${a.N} K=${a.K} group=${a.group}`;
  if (!Number.isInteger(a.bits) || a.bits < 1 || a.bits > 8) return `matmul_nbits needs bits in 1..8, got ${a.bits}`;
  if (layout !== 'dense' && layout !== 'planes') return `matmul_nbits layout must be "dense" or "planes", got "${layout}"`;
  return null;
}

const sameDims = (s: readonly Dim[], want: readonly number[]): boolean => s.length === want.length && s.every((d, i) => d === want[i]);

/** The packed weight an op instance reads, rebuilt from its (float64) input arrays. */
export function quantizedWeightOf(words: NdArray, scales: NdArray, zeros: NdArray, a: NBitsAttrs): QuantizedWeight {
  return { ...a, words: Uint32Array.from(words.data), scales: Float32Array.from(scales.data), zeros: Float32Array.from(zeros.data) };
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
    levels: { kind: 'int', doc: 'informational: levels actually used (5 for 2-bit bit balance)' },
  },
  infer(ins, attrs) {
    const [a, w, s, z, c] = ins as TensorType[];
    if (!a || !w || !s || !z) return 'matmul_nbits needs A, words, scales and zeros';
    const q = nbitsAttrs(attrs);
    const bad = attrError(q, stringAttr(attrs, 'layout', 'dense'));
    if (bad) return bad;
    if (a.dtype !== 'f32') return `matmul_nbits needs f32 A, got ${String(a.dtype)}`;
    if (a.shape.length < 2) return `matmul_nbits needs A of rank >= 2, got rank ${a.shape.length}`;
    const k = a.shape[a.shape.length - 1] as Dim;
    if (k !== q.K) return `matmul_nbits: A has K=${k}, attribute K=${q.K}`;
    if (w.dtype !== 'u32' || !sameDims(w.shape, [packedWords(q)])) return `matmul_nbits words must be u32[${packedWords(q)}] for N=${q.N} K=${q.K} bits=${q.bits} ${q.layout}, got ${String(w.dtype)}[${w.shape.join(',')}]`;
    const sg = [q.N, groupsPerRow(q.K, q.group)];
    for (const [what, t] of [['scales', s], ['zeros', z]] as const) {
      if (t.dtype !== 'f32' || !sameDims(t.shape, sg)) return `matmul_nbits ${what} must be f32[${sg.join(',')}], got ${String(t.dtype)}[${t.shape.join(',')}]`;
    }
    if (c && (c.dtype !== 'f32' || !sameDims(c.shape, [q.N]))) return `matmul_nbits bias must be f32[${q.N}], got ${String(c.dtype)}[${c.shape.join(',')}]`;
    return [{ dtype: 'f32', shape: [...a.shape.slice(0, -1), q.N] }];
  },
  reference(ins, attrs) {
    const [a, w, s, z, c] = ins as NdArray[];
    const q = nbitsAttrs(attrs);
    const x = a as NdArray;
    const W = dequantize(quantizedWeightOf(w as NdArray, s as NdArray, z as NdArray, q));
    const { N, K } = q;
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
    // Words are u32, so tensorBytes already counts the packed size, not N*K floats.
    return { flops: 2 * rows * q.N * q.K, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
