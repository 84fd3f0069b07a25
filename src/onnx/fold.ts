// The import-time constant evaluator: ONNX ops whose inputs are all constant (after earlier
// folding) are computed on the host, so Shape-driven subgraphs (Shape -> Gather -> Concat ->
// Reshape ...) vanish before any IR is built. An evaluator returns undefined when it cannot
// fold (then the importer emits IR). Only what real models need is covered; no strings.

import { reshapeTarget } from '../ir/ops/layout.ts';
import { broadcastShapes, broadcastStrides, isConcrete, stridesOf } from '../ir/shape.ts';
import { constOf, kindOfDataType, type ConstKind, type ConstTensor } from './const-tensor.ts';
import type { NodeCtx } from './context.ts';
import { axesOf, flattenShape, normAxis, sliceOutShape, sliceSpec, squeezeShape, unsqueezeShape } from './params.ts';

type Folder = (c: NodeCtx, ins: readonly ConstTensor[]) => ConstTensor[] | undefined;

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Index of output element `o` (row-major in `out`) in a tensor whose strides are `st`. */
function mapIndex(o: number, outStrides: readonly number[], out: readonly number[], st: readonly number[]): number {
  let src = 0;
  for (let d = 0; d < out.length; d++) src += (Math.floor(o / (outStrides[d] as number)) % (out[d] as number)) * (st[d] as number);
  return src;
}

function broadcastN(c: NodeCtx, ins: readonly ConstTensor[], kind: ConstKind, f: (...xs: number[]) => number): ConstTensor {
  let shape: readonly number[] = [];
  for (const t of ins) {
    const s = broadcastShapes(shape, t.shape);
    if (typeof s === 'string' || !isConcrete(s)) c.fail(String(s));
    shape = s;
  }
  const os = stridesOf(shape);
  const sts = ins.map((t) => broadcastStrides(t.shape, shape));
  const out = new Float64Array(numel(shape));
  for (let o = 0; o < out.length; o++) out[o] = f(...ins.map((t, k) => t.data[mapIndex(o, os, shape, sts[k] as number[])] as number));
  return constOf(kind, shape, out);
}

const intDiv = (a: number, b: number): number => Math.trunc(a / b);

function arith(f: (a: number, b: number) => number, fi?: (a: number, b: number) => number): Folder {
  return (c, [a, b]) => {
    const x = a as ConstTensor;
    const y = b as ConstTensor;
    const kind = x.kind === 'float' || y.kind === 'float' ? 'float' : x.kind;
    return [broadcastN(c, [x, y], kind, kind === 'int' && fi ? fi : f)];
  };
}

function compare(f: (a: number, b: number) => boolean): Folder {
  return (c, [a, b]) => [broadcastN(c, [a as ConstTensor, b as ConstTensor], 'bool', (x, y) => (f(x, y) ? 1 : 0))];
}

function unary(f: (x: number) => number, kind?: ConstKind): Folder {
  return (_c, [a]) => {
    const x = a as ConstTensor;
    return [constOf(kind ?? x.kind, x.shape, Array.from(x.data, f))];
  };
}

const reshaped = (x: ConstTensor, shape: readonly number[]): ConstTensor => ({ kind: x.kind, shape: [...shape], data: x.data });

function gather(c: NodeCtx, x: ConstTensor, idx: ConstTensor): ConstTensor {
  const axis = normAxis(c, c.int('axis', 0), x.shape.length);
  const outer = numel(x.shape.slice(0, axis));
  const dim = x.shape[axis] as number;
  const inner = numel(x.shape.slice(axis + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of idx.data) {
      const i = raw < 0 ? raw + dim : raw;
      if (i < 0 || i >= dim) c.fail(`gather index ${raw} is out of range for a dim of ${dim}`);
      for (let k = 0; k < inner; k++) out.push(x.data[(o * dim + i) * inner + k] as number);
    }
  }
  return constOf(x.kind, [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], out);
}

function slice(c: NodeCtx, x: ConstTensor): ConstTensor {
  const spec = sliceSpec(c, x.shape);
  const outShape = sliceOutShape(x.shape, spec);
  const start = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  spec.axes.forEach((a, i) => { start[a] = spec.starts[i] as number; step[a] = spec.steps[i] as number; });
  const os = stridesOf(outShape);
  const is = stridesOf(x.shape);
  const out = new Float64Array(numel(outShape));
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < outShape.length; d++) {
      const i = Math.floor(o / (os[d] as number)) % (outShape[d] as number);
      src += ((start[d] as number) + i * (step[d] as number)) * (is[d] as number);
    }
    out[o] = x.data[src] as number;
  }
  return { kind: x.kind, shape: outShape, data: out };
}

function concat(c: NodeCtx, ins: readonly ConstTensor[]): ConstTensor {
  const first = ins[0] as ConstTensor;
  const axis = normAxis(c, c.int('axis', 0), first.shape.length);
  const outer = numel(first.shape.slice(0, axis));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const t of ins) {
      const chunk = numel(t.shape.slice(axis));
      for (let k = 0; k < chunk; k++) out.push(t.data[o * chunk + k] as number);
    }
  }
  const shape = [...first.shape];
  shape[axis] = ins.reduce((s, t) => s + (t.shape[axis] as number), 0);
  const kind = ins.some((t) => t.kind === 'float') ? 'float' : first.kind;
  return constOf(kind, shape, out);
}

function cast(c: NodeCtx, x: ConstTensor): ConstTensor {
  const kind = kindOfDataType(c.int('to', 1));
  if (!kind) c.fail(`cannot cast to ONNX data type ${c.int('to', 1)}`);
  const f = kind === 'int' ? Math.trunc : kind === 'bool' ? (v: number) => (v !== 0 ? 1 : 0) : (v: number) => v;
  return constOf(kind, x.shape, Array.from(x.data, f));
}

function transpose(c: NodeCtx, x: ConstTensor): ConstTensor {
  const rank = x.shape.length;
  const perm = c.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const outShape = perm.map((p) => x.shape[p] as number);
  const is = stridesOf(x.shape);
  const st = perm.map((p) => is[p] as number);
  const os = stridesOf(outShape);
  const out = new Float64Array(numel(outShape));
  for (let o = 0; o < out.length; o++) out[o] = x.data[mapIndex(o, os, outShape, st)] as number;
  return { kind: x.kind, shape: outShape, data: out };
}

function reshape(c: NodeCtx, x: ConstTensor, spec: readonly number[]): ConstTensor {
  const s = reshapeTarget(x.shape, spec);
  if (typeof s === 'string' || !isConcrete(s)) c.fail(String(s));
  return reshaped(x, s);
}

export const FOLDERS: ReadonlyMap<string, Folder> = new Map<string, Folder>([
  ['Identity', (_c, [x]) => [x as ConstTensor]],
  ['Add', arith((a, b) => a + b)],
  ['Sub', arith((a, b) => a - b)],
  ['Mul', arith((a, b) => a * b)],
  ['Div', arith((a, b) => a / b, intDiv)],
  ['Pow', arith((a, b) => a ** b)],
  ['Mod', arith((a, b) => a - Math.floor(a / b) * b)],
  ['Min', (c, ins) => [broadcastN(c, ins, ins.some((t) => t.kind === 'float') ? 'float' : 'int', Math.min)]],
  ['Max', (c, ins) => [broadcastN(c, ins, ins.some((t) => t.kind === 'float') ? 'float' : 'int', Math.max)]],
  ['Equal', compare((a, b) => a === b)],
  ['Less', compare((a, b) => a < b)],
  ['Greater', compare((a, b) => a > b)],
  ['Not', unary((x) => (x ? 0 : 1), 'bool')],
  ['Neg', unary((x) => -x)],
  ['Abs', unary(Math.abs)],
  ['Sqrt', unary(Math.sqrt)],
  ['Exp', unary(Math.exp)],
  ['Floor', unary(Math.floor)],
  ['Ceil', unary(Math.ceil)],
  ['Reciprocal', unary((x) => 1 / x)],
  ['Where', (c, [cond, x, y]) => {
    const kind = (x as ConstTensor).kind;
    return [broadcastN(c, [cond as ConstTensor, x as ConstTensor, y as ConstTensor], kind, (p, a, b) => (p ? a : b))];
  }],
  ['Cast', (c, [x]) => [cast(c, x as ConstTensor)]],
  ['Gather', (c, [x, i]) => [gather(c, x as ConstTensor, i as ConstTensor)]],
  ['Slice', (c, [x]) => [slice(c, x as ConstTensor)]],
  ['Concat', (c, ins) => [concat(c, ins)]],
  ['Transpose', (c, [x]) => [transpose(c, x as ConstTensor)]],
  ['Reshape', (c, [x]) => [reshape(c, x as ConstTensor, c.opset < 5 ? (c.ints('shape') ?? []) : [...c.needConst(1, 'shape').data])]],
  ['Flatten', (c, [x]) => [reshaped(x as ConstTensor, flattenShape(c, (x as ConstTensor).shape))]],
  ['Squeeze', (c, [x]) => [reshaped(x as ConstTensor, squeezeShape(c, (x as ConstTensor).shape, axesOf(c, 1, 13)))]],
  ['Unsqueeze', (c, [x]) => {
    const axes = axesOf(c, 1, 13);
    if (!axes) return c.fail('unsqueeze needs axes');
    return [reshaped(x as ConstTensor, unsqueezeShape(c, (x as ConstTensor).shape, axes))];
  }],
  ['Range', (c, [s, l, d]) => {
    const start = (s as ConstTensor).data[0] as number;
    const delta = (d as ConstTensor).data[0] as number;
    const n = Math.max(Math.ceil(((l as ConstTensor).data[0] as number - start) / delta), 0);
    if (n > 1 << 24) c.fail(`range of ${n} elements is too large to fold`);
    return [constOf((s as ConstTensor).kind, [n], Array.from({ length: n }, (_, i) => start + i * delta))];
  }],
  ['Expand', (c, [x, s]) => {
    const ones = constOf('float', [...(s as ConstTensor).data], new Float64Array(numel([...(s as ConstTensor).data])).fill(1));
    return [broadcastN(c, [x as ConstTensor, { ...ones, kind: (x as ConstTensor).kind }], (x as ConstTensor).kind, (a) => a)];
  }],
]);
