// Layout ops: reshape (ONNX rules: 0 copies the input dim, one -1 is inferred) and transpose
// (default perm reverses the dims). Reshape moves no data; the planner aliases its buffer.

import { intsAttr } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel, stridesOf, type Dim, type Shape } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';

export function reshapeTarget(input: Shape, spec: readonly number[]): Shape | string {
  const out: Dim[] = spec.map((d, i) => (d === 0 ? (input[i] ?? 0) : d));
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) return 'reshape allows at most one -1';
  if (out.some((d) => typeof d === 'number' && d < -1)) return `reshape has a negative size in [${spec.join(',')}]`;
  if (!isConcrete(input)) {
    if (minus) return `reshape with -1 needs bound input dims, got [${input.join(',')}]`;
    return out;
  }
  const total = numel(input);
  const known = out.filter((d): d is number => typeof d === 'number' && d !== -1);
  if (out.some((d) => typeof d === 'string')) return out;
  const prod = numel(known);
  if (minus) {
    if (prod === 0 || total % prod !== 0) return `cannot reshape [${input.join(',')}] to [${spec.join(',')}]`;
    return out.map((d) => (d === -1 ? total / prod : d));
  }
  if (prod !== total) return `cannot reshape [${input.join(',')}] (${total} elements) to [${out.join(',')}] (${prod} elements)`;
  return out;
}

export const reshapeOp: OpDef = {
  name: 'reshape', category: 'layout', doc: 'same data, new shape (0 copies a dim, -1 is inferred)',
  inputs: { min: 1, max: 1 }, attrs: { shape: { kind: 'ints' } },
  infer([x], attrs) {
    const t = x as TensorType;
    const s = reshapeTarget(t.shape, intsAttr(attrs, 'shape', []));
    return typeof s === 'string' ? s : [{ dtype: t.dtype, shape: s }];
  },
  reference([x], attrs) {
    const s = reshapeTarget((x as NdArray).shape, intsAttr(attrs, 'shape', []));
    if (typeof s === 'string' || !isConcrete(s)) throw new Error(`reshape: ${String(s)}`);
    return [{ shape: s, data: (x as NdArray).data }];
  },
  cost() {
    return { flops: 0, bytes: 0 };
  },
};

export function transposePerm(rank: number, perm: readonly number[]): readonly number[] {
  return perm.length ? perm : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

export const transposeOp: OpDef = {
  name: 'transpose', category: 'layout', doc: 'permute dims: out.shape[i] = in.shape[perm[i]]',
  inputs: { min: 1, max: 1 }, attrs: { perm: { kind: 'ints', default: [] } },
  infer([x], attrs) {
    const t = x as TensorType;
    const perm = transposePerm(t.shape.length, intsAttr(attrs, 'perm', []));
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== t.shape.length || sorted.some((p, i) => p !== i)) return `transpose perm [${perm.join(',')}] is not a permutation of ${t.shape.length} dims`;
    return [{ dtype: t.dtype, shape: perm.map((p) => t.shape[p] as Dim) }];
  },
  reference([x], attrs) {
    const X = x as NdArray;
    const perm = transposePerm(X.shape.length, intsAttr(attrs, 'perm', []));
    const outShape = perm.map((p) => X.shape[p] as number);
    const inStrides = stridesOf(X.shape);
    const outStrides = stridesOf(outShape);
    const out = ndarray(outShape);
    for (let o = 0; o < out.data.length; o++) {
      let src = 0;
      for (let d = 0; d < outShape.length; d++) {
        const i = Math.floor(o / (outStrides[d] as number)) % (outShape[d] as number);
        src += i * (inStrides[perm[d] as number] as number);
      }
      out.data[o] = X.data[src] as number;
    }
    return [out];
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
