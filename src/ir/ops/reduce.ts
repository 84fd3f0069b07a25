// Reductions over an axis set (reduce_sum/mean/max: ONNX ReduceX with `axes` as an attribute;
// negative axes count from the end, empty axes = all) and the per-axis softmax/log_softmax
// (max subtracted first, so large inputs stay finite). Float inputs only; no noop_with_empty_axes.

import { intsAttr, numberAttr } from '../graph.ts';
import { isFloat } from '../dtype.ts';
import type { OpDef } from '../op-def.ts';
import { stridesOf, type Dim, type Shape } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { concreteNumel, tensorBytes } from './helpers.ts';

/** Sorted, de-duplicated non-negative axes, or an error string. Empty `axes` means all dims. */
export function normalizeAxes(rank: number, axes: readonly number[], op: string): number[] | string {
  if (!axes.length) return Array.from({ length: rank }, (_, i) => i);
  const out = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) return `${op} axis ${a} is out of range for rank ${rank}`;
    const n = a < 0 ? a + rank : a;
    if (out.has(n)) return `${op} axis ${a} is given twice`;
    out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

/** One non-negative axis, or an error string. */
export function normalizeAxis(rank: number, axis: number, op: string): number | string {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) return `${op} axis ${axis} is out of range for rank ${rank}`;
  return axis < 0 ? axis + rank : axis;
}

export function floatInputError(t: TensorType, op: string): string | undefined {
  return isFloat(t.dtype) ? undefined : `${op} needs a float input, got ${typeof t.dtype === 'string' ? t.dtype : 'a packed integer'}`;
}

export function reduceOutShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

type Combine = 'sum' | 'mean' | 'max';

/**
 * Calls visit(outIndex, inIndex) for every input element, where outIndex is the flat index of
 * the kept dims (row-major over the kept dims, which is also the keepdims output order).
 */
function forEachReduced(shape: readonly number[], axes: readonly number[], visit: (o: number, i: number) => void): void {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const keptStrides = stridesOf(kept.map((d) => shape[d] as number));
  const strides = stridesOf(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    let o = 0;
    kept.forEach((d, k) => {
      o += (Math.floor(i / (strides[d] as number)) % (shape[d] as number)) * (keptStrides[k] as number);
    });
    visit(o, i);
  }
}

function reduceDef(name: string, combine: Combine, flopsPerElem: number): OpDef {
  return {
    name, category: 'reduce', doc: `${combine} over axes (empty = all dims); keepdims keeps them as size 1`,
    inputs: { min: 1, max: 1 },
    attrs: { axes: { kind: 'ints', default: [] }, keepdims: { kind: 'int', default: 1 } },
    infer([x], attrs) {
      const t = x as TensorType;
      const bad = floatInputError(t, name);
      if (bad) return bad;
      const axes = normalizeAxes(t.shape.length, intsAttr(attrs, 'axes', []), name);
      if (typeof axes === 'string') return axes;
      if (combine === 'max' && axes.some((a) => t.shape[a] === 0)) return `${name} over an empty axis has no value`;
      return [{ dtype: t.dtype, shape: reduceOutShape(t.shape, axes, numberAttr(attrs, 'keepdims', 1) !== 0) }];
    },
    reference([x], attrs) {
      const X = x as NdArray;
      const axes = normalizeAxes(X.shape.length, intsAttr(attrs, 'axes', []), name);
      if (typeof axes === 'string') throw new Error(`${name}: ${axes}`);
      const outShape = reduceOutShape(X.shape, axes, numberAttr(attrs, 'keepdims', 1) !== 0) as number[];
      const out = ndarray(outShape);
      if (combine === 'max') out.data.fill(-Infinity);
      forEachReduced(X.shape, axes, (o, i) => {
        const v = X.data[i] as number;
        out.data[o] = combine === 'max' ? Math.max(out.data[o] as number, v) : (out.data[o] as number) + v;
      });
      if (combine === 'mean') {
        const count = axes.reduce((a, d) => a * (X.shape[d] as number), 1);
        for (let o = 0; o < out.data.length; o++) out.data[o] = (out.data[o] as number) / count;
      }
      return [out];
    },
    cost(ins, outs) {
      return { flops: flopsPerElem * concreteNumel(ins[0] as TensorType), bytes: tensorBytes(ins) + tensorBytes(outs) };
    },
  };
}

export const reduceSumOp = reduceDef('reduce_sum', 'sum', 1);
export const reduceMeanOp = reduceDef('reduce_mean', 'mean', 1);
export const reduceMaxOp = reduceDef('reduce_max', 'max', 1);

/** Calls f(base, stride, len) once per 1-D lane along `axis` of a concrete shape. */
export function forEachLane(shape: readonly number[], axis: number, f: (base: number, stride: number, len: number) => void): void {
  const len = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) f(o * len * inner + i, inner, len);
}

function softmaxDef(name: 'softmax' | 'log_softmax'): OpDef {
  return {
    name, category: 'norm',
    doc: name === 'softmax' ? 'exp(x - max) / sum(exp(x - max)) along axis' : 'x - max - log(sum(exp(x - max))) along axis',
    inputs: { min: 1, max: 1 }, attrs: { axis: { kind: 'int', default: -1 } },
    infer([x], attrs) {
      const t = x as TensorType;
      const bad = floatInputError(t, name);
      if (bad) return bad;
      const axis = normalizeAxis(t.shape.length, numberAttr(attrs, 'axis', -1), name);
      return typeof axis === 'string' ? axis : [t];
    },
    reference([x], attrs) {
      const X = x as NdArray;
      const axis = normalizeAxis(X.shape.length, numberAttr(attrs, 'axis', -1), name);
      if (typeof axis === 'string') throw new Error(`${name}: ${axis}`);
      const out = ndarray(X.shape);
      forEachLane(X.shape, axis, (base, stride, len) => {
        let m = -Infinity;
        for (let j = 0; j < len; j++) m = Math.max(m, X.data[base + j * stride] as number);
        let s = 0;
        for (let j = 0; j < len; j++) s += Math.exp((X.data[base + j * stride] as number) - m);
        for (let j = 0; j < len; j++) {
          const d = (X.data[base + j * stride] as number) - m;
          out.data[base + j * stride] = name === 'softmax' ? Math.exp(d) / s : d - Math.log(s);
        }
      });
      return [out];
    },
    cost(ins, outs) {
      return { flops: 5 * concreteNumel(ins[0] as TensorType), bytes: tensorBytes(ins) + tensorBytes(outs) };
    },
  };
}

export const softmaxOp = softmaxDef('softmax');
export const logSoftmaxOp = softmaxDef('log_softmax');

export const REDUCE_OPS: readonly OpDef[] = [reduceSumOp, reduceMeanOp, reduceMaxOp, softmaxOp, logSoftmaxOp];
