// Elementwise ops: unary activations and broadcasting binary arithmetic. Each entry is its
// float64 semantics plus a FLOP weight; the WGSL spellings live in codegen/wgsl/expr.ts.
// Inputs and output share one float dtype (f32 or f16); integer arithmetic is not covered.

import type { Attrs } from '../graph.ts';
import { isFloat } from '../dtype.ts';
import type { AttrSpec, OpDef } from '../op-def.ts';
import { broadcastShapes, isConcrete, numel } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { concreteNumel, erf, forEachBroadcast, tensorBytes } from './helpers.ts';
import { numberAttr, stringAttr } from '../graph.ts';

interface UnarySpec {
  doc: string;
  attrs?: Record<string, AttrSpec>;
  flops: number;
  f(x: number, attrs: Attrs): number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export const UNARY: Readonly<Record<string, UnarySpec>> = {
  relu: { doc: 'max(x, 0)', flops: 1, f: (x) => (x > 0 ? x : 0) },
  leaky_relu: {
    doc: 'x if x >= 0 else alpha * x', flops: 2,
    attrs: { alpha: { kind: 'float', default: 0.01 } },
    f: (x, a) => (x >= 0 ? x : numberAttr(a, 'alpha', 0.01) * x),
  },
  sigmoid: { doc: '1 / (1 + exp(-x))', flops: 4, f: sigmoid },
  tanh: { doc: 'hyperbolic tangent', flops: 6, f: Math.tanh },
  gelu: {
    doc: "x * Φ(x); approximate='tanh' uses the tanh form", flops: 10,
    attrs: { approximate: { kind: 'string', default: 'none' } },
    f: (x, a) =>
      stringAttr(a, 'approximate', 'none') === 'tanh'
        ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
        : 0.5 * x * (1 + erf(x / Math.SQRT2)),
  },
  silu: { doc: 'x * sigmoid(x)', flops: 5, f: (x) => x * sigmoid(x) },
  hardsigmoid: {
    doc: 'clamp(alpha * x + beta, 0, 1)', flops: 3,
    attrs: { alpha: { kind: 'float', default: 0.2 }, beta: { kind: 'float', default: 0.5 } },
    f: (x, a) => Math.min(1, Math.max(0, numberAttr(a, 'alpha', 0.2) * x + numberAttr(a, 'beta', 0.5))),
  },
  hardswish: { doc: 'x * clamp(x / 6 + 0.5, 0, 1)', flops: 4, f: (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5)) },
  clip: {
    doc: 'clamp(x, min, max)', flops: 2,
    attrs: { min: { kind: 'float', default: -Infinity }, max: { kind: 'float', default: Infinity } },
    f: (x, a) => Math.min(numberAttr(a, 'max', Infinity), Math.max(numberAttr(a, 'min', -Infinity), x)),
  },
  sqrt: { doc: 'square root', flops: 1, f: Math.sqrt },
  exp: { doc: 'e^x', flops: 1, f: Math.exp },
  abs: { doc: '|x|', flops: 1, f: Math.abs },
  neg: { doc: '-x', flops: 1, f: (x) => -x },
  erf: { doc: 'Gauss error function', flops: 10, f: erf },
  affine: {
    doc: 'x * scale + shift (scalars; what mul/add/sub by a scalar constant become, so epilogues absorb them)', flops: 2,
    attrs: { scale: { kind: 'float', default: 1 }, shift: { kind: 'float', default: 0 } },
    f: (x, a) => x * numberAttr(a, 'scale', 1) + numberAttr(a, 'shift', 0),
  },
};

export const BINARY: Readonly<Record<string, { doc: string; f(a: number, b: number): number }>> = {
  add: { doc: 'a + b (broadcasting)', f: (a, b) => a + b },
  sub: { doc: 'a - b (broadcasting)', f: (a, b) => a - b },
  mul: { doc: 'a * b (broadcasting)', f: (a, b) => a * b },
  div: { doc: 'a / b (broadcasting)', f: (a, b) => a / b },
  pow: { doc: 'a ^ b (broadcasting)', f: (a, b) => a ** b },
};

function inferFloat(t: TensorType, op: string): string | undefined {
  return isFloat(t.dtype) ? undefined : `${op} needs a float input, got ${typeof t.dtype === 'string' ? t.dtype : 'a packed integer'}`;
}

function unaryDef(name: string, spec: UnarySpec): OpDef {
  return {
    name, category: 'unary', doc: spec.doc, inputs: { min: 1, max: 1 }, attrs: spec.attrs ?? {},
    infer([x]) {
      const bad = inferFloat(x as TensorType, name);
      return bad ?? [x as TensorType];
    },
    reference([x], attrs) {
      const src = (x as NdArray).data;
      const out = ndarray((x as NdArray).shape);
      for (let i = 0; i < src.length; i++) out.data[i] = spec.f(src[i] as number, attrs);
      return [out];
    },
    cost(ins, outs) {
      return { flops: spec.flops * concreteNumel(outs[0] as TensorType), bytes: tensorBytes(ins) + tensorBytes(outs) };
    },
  };
}

function binaryDef(name: string, spec: { doc: string; f(a: number, b: number): number }): OpDef {
  return {
    name, category: 'binary', doc: spec.doc, inputs: { min: 2, max: 2 }, attrs: {},
    infer([a, b]) {
      const ta = a as TensorType;
      const tb = b as TensorType;
      const bad = inferFloat(ta, name) ?? inferFloat(tb, name);
      if (bad) return bad;
      if (ta.dtype !== tb.dtype) return `${name} operands have different dtypes (${String(ta.dtype)} vs ${String(tb.dtype)})`;
      const s = broadcastShapes(ta.shape, tb.shape);
      return typeof s === 'string' ? s : [{ dtype: ta.dtype, shape: s }];
    },
    reference([a, b]) {
      const x = a as NdArray;
      const y = b as NdArray;
      const shape = broadcastShapes(x.shape, y.shape);
      if (typeof shape === 'string' || !isConcrete(shape)) throw new Error(`${name}: ${String(shape)}`);
      const out = ndarray(shape);
      forEachBroadcast(shape, x.shape, y.shape, (o, ia, ib) => {
        out.data[o] = spec.f(x.data[ia] as number, y.data[ib] as number);
      });
      return [out];
    },
    cost(ins, outs) {
      const o = outs[0] as TensorType;
      return { flops: isConcrete(o.shape) ? numel(o.shape) : 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
    },
  };
}

export const ELEMENTWISE_OPS: readonly OpDef[] = [
  ...Object.entries(UNARY).map(([n, s]) => unaryDef(n, s)),
  ...Object.entries(BINARY).map(([n, s]) => binaryDef(n, s)),
];
