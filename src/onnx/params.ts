// Operand decoding shared by the constant folder and the importers: axes (attribute before
// opset 13/18, constant input after), Slice starts/ends/axes/steps per opset, and ONNX's
// clamping rules. Everything here reads through NodeCtx, so errors name the node.

import type { NodeCtx } from './context.ts';
import { clampSliceRange } from '../ir/ops/pad-slice.ts';

export function normAxis(c: NodeCtx, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) c.fail(`axis ${a} is out of range for rank ${rank}`);
  return r;
}

/** Axes from the attribute (before `inputSince`) or the constant input `idx` (from then on). */
export function axesOf(c: NodeCtx, idx: number, inputSince: number): number[] | undefined {
  if (c.opset < inputSince) return c.ints('axes');
  if (!c.has(idx)) return undefined;
  return [...c.needConst(idx, 'axes').data];
}

export interface SliceSpec {
  readonly starts: number[];
  readonly ends: number[];
  readonly axes: number[];
  readonly steps: number[];
}

/** Slice operands with axes normalised and starts/ends clamped as ONNX defines them. */
export function sliceSpec(c: NodeCtx, shape: readonly number[]): SliceSpec {
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (c.opset < 10) {
    starts = c.ints('starts') ?? [];
    ends = c.ints('ends') ?? [];
    axes = c.ints('axes');
  } else {
    starts = [...c.needConst(1, 'starts').data];
    ends = [...c.needConst(2, 'ends').data];
    if (c.has(3)) axes = [...c.needConst(3, 'axes').data];
    if (c.has(4)) steps = [...c.needConst(4, 'steps').data];
  }
  const rank = shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(c, a, rank));
  const st = steps ?? starts.map(() => 1);
  if (st.some((s) => s === 0)) c.fail('slice steps must be non-zero');
  const out: SliceSpec = { starts: [], ends: [], axes: ax, steps: st };
  ax.forEach((a, i) => {
    const dim = shape[a] as number;
    const step = st[i] as number;
    const r = clampSliceRange(starts[i] ?? 0, ends[i] ?? dim, step, dim);
    out.starts.push(r.start);
    out.ends.push(r.end);
  });
  return out;
}

export function sliceOutShape(shape: readonly number[], s: SliceSpec): number[] {
  const out = [...shape];
  s.axes.forEach((a, i) => {
    const st = s.steps[i] as number;
    const n = Math.ceil(((s.ends[i] as number) - (s.starts[i] as number)) / st);
    out[a] = Math.max(0, n);
  });
  return out;
}

/** Output shape of Squeeze: the given axes (or every size-1 dim) removed. */
export function squeezeShape(c: NodeCtx, shape: readonly number[], axes: readonly number[] | undefined): number[] {
  if (!axes || axes.length === 0) return shape.filter((d) => d !== 1);
  const ax = new Set(axes.map((a) => normAxis(c, a, shape.length)));
  for (const a of ax) if (shape[a] !== 1) c.fail(`cannot squeeze axis ${a} of size ${shape[a]}`);
  return shape.filter((_, i) => !ax.has(i));
}

export function unsqueezeShape(c: NodeCtx, shape: readonly number[], axes: readonly number[]): number[] {
  const rank = shape.length + axes.length;
  const ax = new Set(axes.map((a) => normAxis(c, a, rank)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(ax.has(i) ? 1 : (shape[j++] as number));
  return out;
}

export function flattenShape(c: NodeCtx, shape: readonly number[]): number[] {
  const a = c.int('axis', 1);
  const axis = a < 0 ? a + shape.length : a;
  if (axis < 0 || axis > shape.length) c.fail(`flatten axis ${a} is out of range for rank ${shape.length}`);
  const prod = (xs: readonly number[]): number => xs.reduce((p, d) => p * d, 1);
  return [prod(shape.slice(0, axis)), prod(shape.slice(axis))];
}
