// Ops that move no data: squeeze/unsqueeze/flatten/identity relabel the shape (lowering aliases
// their storage like reshape) and cast changes the element type (an alias only when nothing
// changes on the GPU). Symbolic dims pass through where no product of them is needed.

import { SCALAR_DTYPES, dtypeName, type DType, type ScalarDType } from '../dtype.ts';
import { f16BitsToNumber, numberToF16Bits } from '../f16.ts';
import { intsAttr, numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { numel, shapeToString, type Dim, type Shape } from '../shape.ts';
import type { NdArray, TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';
import { normalizeAxes } from './reduce.ts';

export function squeezeShape(shape: Shape, axesAttr: readonly number[]): Dim[] | string {
  if (!axesAttr.length) return shape.filter((d) => d !== 1);
  const axes = normalizeAxes(shape.length, axesAttr, 'squeeze');
  if (typeof axes === 'string') return axes;
  const bad = axes.find((a) => shape[a] !== 1);
  if (bad !== undefined) return `squeeze axis ${bad} has size ${String(shape[bad])}, not 1`;
  return shape.filter((_, i) => !axes.includes(i));
}

export function unsqueezeShape(shape: Shape, axesAttr: readonly number[]): Dim[] | string {
  if (!axesAttr.length) return 'unsqueeze needs at least one axis';
  const rank = shape.length + axesAttr.length;
  const axes = normalizeAxes(rank, axesAttr, 'unsqueeze');
  if (typeof axes === 'string') return axes;
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : (shape[k++] as Dim));
  return out;
}

function product(dims: Shape): Dim | undefined {
  if (dims.length === 1) return dims[0];
  return dims.every((d) => typeof d === 'number') ? numel(dims as number[]) : undefined;
}

export function flattenShape(shape: Shape, axis: number): Dim[] | string {
  const r = shape.length;
  if (!Number.isInteger(axis) || axis < -r || axis > r) return `flatten axis ${axis} is out of range for rank ${r}`;
  const a = axis < 0 ? axis + r : axis;
  const lo = product(shape.slice(0, a));
  const hi = product(shape.slice(a));
  if (lo === undefined || hi === undefined) return `flatten of ${shapeToString(shape)} multiplies symbolic dims; bind them first`;
  return [lo, hi];
}

function relabel(name: string, doc: string, attrs: OpDef['attrs'], shapeOf: (s: Shape, a: Attrs) => Dim[] | string): OpDef {
  return {
    name, category: 'layout', doc, inputs: { min: 1, max: 1 }, attrs,
    infer([x], a) {
      const t = x as TensorType;
      const s = shapeOf(t.shape, a);
      return typeof s === 'string' ? s : [{ dtype: t.dtype, shape: s }];
    },
    reference([x], a) {
      const s = shapeOf((x as NdArray).shape, a);
      if (typeof s === 'string') throw new Error(`${name}: ${s}`);
      return [{ shape: s as number[], data: (x as NdArray).data }];
    },
    cost() {
      return { flops: 0, bytes: 0 };
    },
  };
}

export const squeezeOp = relabel('squeeze', 'drop size-1 dims (the listed axes, or all of them)',
  { axes: { kind: 'ints', default: [] } }, (s, a) => squeezeShape(s, intsAttr(a, 'axes', [])));
export const unsqueezeOp = relabel('unsqueeze', 'insert size-1 dims at the listed output axes',
  { axes: { kind: 'ints' } }, (s, a) => unsqueezeShape(s, intsAttr(a, 'axes', [])));
export const flattenOp = relabel('flatten', '2-D view: [prod(dims < axis), prod(dims >= axis)]',
  { axis: { kind: 'int', default: 1 } }, (s, a) => flattenShape(s, numberAttr(a, 'axis', 1)));
export const identityOp = relabel('identity', 'the input itself', {}, (s) => [...s]);

export function castTarget(to: string): ScalarDType | undefined {
  return (SCALAR_DTYPES as readonly string[]).includes(to) ? (to as ScalarDType) : undefined;
}

/** The value `x` becomes in dtype `to` (float -> int truncates toward zero, like ONNX/NumPy). */
export function castValue(x: number, to: DType): number {
  switch (to) {
    case 'f32': return Math.fround(x);
    case 'f16': return f16BitsToNumber(numberToF16Bits(x));
    case 'i32': return Math.trunc(x) | 0;
    case 'u32': return Math.trunc(x) >>> 0;
    case 'bool': return x !== 0 ? 1 : 0;
    default: return x;
  }
}

export const castOp: OpDef = {
  name: 'cast', category: 'layout', doc: "convert elements to dtype `to` ('f32', 'f16', 'i32', 'u32', 'bool')",
  inputs: { min: 1, max: 1 }, attrs: { to: { kind: 'string' } },
  infer([x], a) {
    const t = x as TensorType;
    const to = stringAttr(a, 'to', '');
    const d = castTarget(to);
    if (!d) return `cast to '${to}' is not supported (use one of ${SCALAR_DTYPES.join(', ')})`;
    if (typeof t.dtype !== 'string') return `cast from packed ${dtypeName(t.dtype)} needs a dequantize node`;
    return [{ dtype: d, shape: t.shape }];
  },
  reference([x], a) {
    const X = x as NdArray;
    const to = castTarget(stringAttr(a, 'to', '')) as ScalarDType;
    return [{ shape: X.shape, data: X.data.map((v) => castValue(v, to)) }];
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};

export const SHAPE_OPS: readonly OpDef[] = [squeezeOp, unsqueezeOp, flattenOp, identityOp, castOp];
