// concat (2+ inputs along one axis), split (one output per entry of `split` sizes, or
// `num_outputs` equal parts) and depth_to_space (NCHW, DCR or CRD = PyTorch pixel_shuffle).
// Negative axes count from the end. Concatenated dims must be concrete.

import { intsAttr, numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { sameShape, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';

function normAxis(axis: number, rank: number): number | string {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : `axis ${axis} is out of range for rank ${rank}`;
}

/** [outer, size along axis, inner] of a concrete shape. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[axis] as number, inner];
}

export const concatOp: OpDef = {
  name: 'concat', category: 'layout', doc: 'join 2+ tensors along `axis` (other dims must match)',
  inputs: { min: 2, max: 64 }, attrs: { axis: { kind: 'int' } },
  infer(ins, attrs) {
    const first = ins[0] as TensorType;
    const r = first.shape.length;
    if (r === 0) return 'concat needs rank >= 1 inputs';
    const axis = normAxis(numberAttr(attrs, 'axis', 0), r);
    if (typeof axis === 'string') return `concat ${axis}`;
    let total = 0;
    for (const [i, t] of ins.entries()) {
      if (t.dtype !== first.dtype) return `concat input ${i} has dtype ${String(t.dtype)}, input 0 has ${String(first.dtype)}`;
      if (t.shape.length !== r) return `concat input ${i} has rank ${t.shape.length}, input 0 has rank ${r}`;
      const other = (s: readonly Dim[]): Dim[] => s.filter((_, d) => d !== axis);
      if (!sameShape(other(t.shape), other(first.shape))) return `concat input ${i} [${t.shape.join(',')}] differs from input 0 [${first.shape.join(',')}] off axis ${axis}`;
      const n = t.shape[axis] as Dim;
      if (typeof n !== 'number') return `concat: input ${i} dim ${axis} is symbolic ('${n}'); bind it first`;
      total += n;
    }
    return [{ dtype: first.dtype, shape: first.shape.map((d, i) => (i === axis ? total : d)) }];
  },
  reference(ins, attrs) {
    const xs = ins as NdArray[];
    const first = xs[0] as NdArray;
    const axis = normAxis(numberAttr(attrs, 'axis', 0), first.shape.length) as number;
    const total = xs.reduce((s, x) => s + (x.shape[axis] as number), 0);
    const outShape = first.shape.map((d, i) => (i === axis ? total : d));
    const [outer, , inner] = around(outShape, axis);
    const out = ndarray(outShape);
    let off = 0;
    for (const x of xs) {
      const n = x.shape[axis] as number;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < n * inner; j++) out.data[(o * total + off) * inner + j] = x.data[o * n * inner + j] as number;
      }
      off += n;
    }
    return [out];
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};

/** The part sizes of a split of `n`, or an error string. */
export function splitSizes(n: number, attrs: Attrs): number[] | string {
  const given = intsAttr(attrs, 'split', []);
  if (given.length) {
    if (given.some((s) => !Number.isInteger(s) || s < 1)) return `split sizes must be >= 1, got [${given.join(',')}]`;
    const sum = given.reduce((a, b) => a + b, 0);
    return sum === n ? [...given] : `split sizes [${given.join(',')}] sum to ${sum}, the axis has ${n}`;
  }
  const parts = numberAttr(attrs, 'num_outputs', 0);
  if (parts < 1) return 'split needs `split` sizes or `num_outputs`';
  // ONNX-18 rule: equal parts of ceil(n / parts), the last one smaller (but not empty).
  const size = Math.ceil(n / parts);
  if ((parts - 1) * size >= n) return `split of ${n} into ${parts} parts of ${size} would leave the last part empty`;
  return Array.from({ length: parts }, (_, i) => Math.min(size, n - i * size));
}

export const splitOp: OpDef = {
  name: 'split', category: 'layout', doc: 'cut along `axis` into parts of the given sizes (one output each)',
  inputs: { min: 1, max: 1 },
  attrs: { axis: { kind: 'int', default: 0 }, split: { kind: 'ints' }, num_outputs: { kind: 'int' } },
  infer([x], attrs) {
    const t = x as TensorType;
    const axis = normAxis(numberAttr(attrs, 'axis', 0), t.shape.length);
    if (typeof axis === 'string') return `split ${axis}`;
    const n = t.shape[axis] as Dim;
    if (typeof n !== 'number') return `split: dim ${axis} is symbolic ('${n}'); bind it first`;
    const sizes = splitSizes(n, attrs);
    if (typeof sizes === 'string') return sizes;
    return sizes.map((s) => ({ dtype: t.dtype, shape: t.shape.map((d, i) => (i === axis ? s : d)) }));
  },
  reference([x], attrs) {
    const X = x as NdArray;
    const axis = normAxis(numberAttr(attrs, 'axis', 0), X.shape.length) as number;
    const [outer, n, inner] = around(X.shape, axis);
    const sizes = splitSizes(n, attrs) as number[];
    let off = 0;
    return sizes.map((s) => {
      const out = ndarray(X.shape.map((d, i) => (i === axis ? s : d)));
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < s * inner; j++) out.data[o * s * inner + j] = X.data[(o * n + off) * inner + j] as number;
      }
      off += s;
      return out;
    });
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};

export const depthToSpaceOp: OpDef = {
  name: 'depth_to_space', category: 'layout', doc: 'move channel blocks into b x b spatial blocks (NCHW; DCR or CRD)',
  inputs: { min: 1, max: 1 }, attrs: { blocksize: { kind: 'int' }, mode: { kind: 'string', default: 'DCR' } },
  infer([x], attrs) {
    const t = x as TensorType;
    const b = numberAttr(attrs, 'blocksize', 0);
    const mode = stringAttr(attrs, 'mode', 'DCR');
    if (mode !== 'DCR' && mode !== 'CRD') return `depth_to_space mode must be DCR or CRD, got '${mode}'`;
    if (!Number.isInteger(b) || b < 1) return `depth_to_space blocksize must be >= 1, got ${b}`;
    if (t.shape.length !== 4) return `depth_to_space needs a rank-4 NCHW input, got rank ${t.shape.length}`;
    const [N, C, H, W] = t.shape as Dim[];
    if (typeof C !== 'number') return `depth_to_space: channels are symbolic ('${C}'); bind them first`;
    if (C % (b * b)) return `depth_to_space: ${C} channels are not divisible by blocksize^2 = ${b * b}`;
    const scale = (d: Dim | undefined): Dim => (typeof d === 'number' ? d * b : `${String(d)}*${b}`);
    return [{ dtype: t.dtype, shape: [N as Dim, C / (b * b), scale(H), scale(W)] }];
  },
  reference([x], attrs) {
    const X = x as NdArray;
    const b = numberAttr(attrs, 'blocksize', 1);
    const crd = stringAttr(attrs, 'mode', 'DCR') === 'CRD';
    const [N, C, H, W] = X.shape as [number, number, number, number];
    const Co = C / (b * b);
    const out = ndarray([N, Co, H * b, W * b]);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < Co; c++) {
        for (let y = 0; y < H * b; y++) {
          for (let xx = 0; xx < W * b; xx++) {
            const i = y % b;
            const j = xx % b;
            const ci = crd ? c * b * b + i * b + j : (i * b + j) * Co + c;
            out.data[((n * Co + c) * H * b + y) * W * b + xx] = X.data[((n * C + ci) * H + Math.floor(y / b)) * W + Math.floor(xx / b)] as number;
          }
        }
      }
    }
    return [out];
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
