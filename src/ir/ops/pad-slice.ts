// pad (ONNX Pad with pads/value as attributes; constant, reflect, edge; negative pads crop) and
// slice (ONNX Slice clamping rules: negative indices count from the end, negative steps walk
// backwards). Both resolve to per-dim affine source maps (`DimMap`) that the index-map kernel uses.

import { intsAttr, numberAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import type { Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';

/** Output coordinate o along a dim reads input coordinate start + step * o; `size` is the output length. */
export interface DimMap {
  readonly start: number;
  readonly step: number;
  readonly size: number;
}

export const PAD_MODES = ['constant', 'reflect', 'edge'] as const;
export type PadMode = (typeof PAD_MODES)[number];

/** Input coordinate for an out-of-range `i` under a border mode; undefined = the constant value. */
export function borderIndex(mode: PadMode, i: number, n: number): number | undefined {
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return undefined;
  if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1);
  if (n === 1) return 0;
  // reflect as numpy/ONNX: period 2(n-1), so pads of n or more keep bouncing.
  const period = 2 * (n - 1);
  const m = Math.abs(i) % period;
  return m >= n ? period - m : m;
}

/** Copies `X` into a new array of `outShape`, reading through per-dim maps and a border mode. */
export function gatherByMaps(X: NdArray, maps: readonly DimMap[], mode: PadMode, value: number): NdArray {
  const out = ndarray(maps.map((m) => m.size));
  const r = maps.length;
  const inStr = new Array<number>(r);
  for (let d = r - 1, acc = 1; d >= 0; d--) {
    inStr[d] = acc;
    acc *= X.shape[d] as number;
  }
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.data.length; o++) {
    let src = 0;
    for (let d = 0; d < r && src >= 0; d++) {
      const m = maps[d] as DimMap;
      const i = borderIndex(mode, m.start + m.step * (idx[d] as number), X.shape[d] as number);
      src = i === undefined ? -1 : src + i * (inStr[d] as number);
    }
    out.data[o] = src < 0 ? value : (X.data[src] as number);
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (maps[d] as DimMap).size) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function padMaps(shape: readonly number[], pads: readonly number[]): DimMap[] {
  const r = shape.length;
  return shape.map((n, d) => ({ start: -(pads[d] as number), step: 1, size: n + (pads[d] as number) + (pads[d + r] as number) }));
}

export const padOp: OpDef = {
  name: 'pad', category: 'layout', doc: 'pad (or crop, with negative pads) every dim; pads = [begins..., ends...]',
  inputs: { min: 1, max: 1 },
  attrs: { pads: { kind: 'ints' }, mode: { kind: 'string', default: 'constant' }, value: { kind: 'float', default: 0 } },
  infer([x], attrs) {
    const t = x as TensorType;
    const mode = stringAttr(attrs, 'mode', 'constant') as PadMode;
    if (!PAD_MODES.includes(mode)) return `pad mode must be one of ${PAD_MODES.join('|')}, got '${mode}'`;
    const pads = intsAttr(attrs, 'pads', []);
    const r = t.shape.length;
    if (pads.length !== 2 * r) return `pad needs ${2 * r} pads for rank ${r} ([begins..., ends...]), got ${pads.length}`;
    const out: Dim[] = [];
    for (let d = 0; d < r; d++) {
      const n = t.shape[d] as Dim;
      const [b, e] = [pads[d] as number, pads[d + r] as number];
      if (typeof n !== 'number') {
        if (b || e) return `pad: dim ${d} is symbolic ('${n}'); bind it before padding it`;
        out.push(n);
        continue;
      }
      // Cropping with reflect/edge is order-dependent (crop first or pad first?), so it is refused.
      if (mode !== 'constant' && (b < 0 || e < 0)) return `pad ${mode}: pads must be >= 0 (negative pads crop only in constant mode), got ${b}/${e} on dim ${d}`;
      if (n + b + e < 1) return `pad output dim ${d} would be empty (${n} + ${b} + ${e})`;
      out.push(n + b + e);
    }
    return [{ dtype: t.dtype, shape: out }];
  },
  reference([x], attrs) {
    const X = x as NdArray;
    const mode = stringAttr(attrs, 'mode', 'constant') as PadMode;
    return [gatherByMaps(X, padMaps(X.shape, intsAttr(attrs, 'pads', [])), mode, numberAttr(attrs, 'value', 0))];
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};

/** Per-dim maps for an ONNX slice of `shape`, or an error string. */
/** ONNX Slice clamping for one axis: negative indices wrap, then clamp to the axis (for
 * negative steps the end may sit one before the first element). */
export function clampSliceRange(start: number, end: number, step: number, n: number): { start: number; end: number } {
  let s = start < 0 ? start + n : start;
  let e = end < 0 ? end + n : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), n);
    e = Math.min(Math.max(e, 0), n);
  } else {
    s = Math.min(Math.max(s, 0), n - 1);
    e = Math.min(Math.max(e, -1), n - 1);
  }
  return { start: s, end: e };
}

export function sliceMaps(shape: readonly number[], attrs: Attrs): DimMap[] | string {
  const r = shape.length;
  const starts = intsAttr(attrs, 'starts', []);
  const ends = intsAttr(attrs, 'ends', []);
  const axes = intsAttr(attrs, 'axes', starts.map((_, i) => i));
  const steps = intsAttr(attrs, 'steps', starts.map(() => 1));
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    return `slice starts, ends, axes and steps must have equal lengths, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`;
  }
  const maps: DimMap[] = shape.map((n) => ({ start: 0, step: 1, size: n }));
  const seen = new Set<number>();
  for (let i = 0; i < starts.length; i++) {
    const a = axes[i] as number;
    const ax = a < 0 ? a + r : a;
    if (ax < 0 || ax >= r) return `slice axis ${a} is out of range for rank ${r}`;
    if (seen.has(ax)) return `slice axis ${a} appears twice`;
    seen.add(ax);
    const n = shape[ax] as number;
    const step = steps[i] as number;
    if (step === 0) return 'slice steps must not be 0';
    const { start: s, end: e } = clampSliceRange(starts[i] as number, ends[i] as number, step, n);
    const size = Math.max(0, Math.ceil((e - s) / step));
    if (size === 0) return `slice along axis ${a} is empty (start ${starts[i]}, end ${ends[i]}, step ${step} on size ${n})`;
    maps[ax] = { start: s, step, size };
  }
  return maps;
}

export const sliceOp: OpDef = {
  name: 'slice', category: 'layout', doc: 'strided sub-box (ONNX Slice: starts, ends, axes, steps; negatives allowed)',
  inputs: { min: 1, max: 1 },
  attrs: { starts: { kind: 'ints' }, ends: { kind: 'ints' }, axes: { kind: 'ints' }, steps: { kind: 'ints' } },
  infer([x], attrs) {
    const t = x as TensorType;
    const axes = intsAttr(attrs, 'axes', intsAttr(attrs, 'starts', []).map((_, i) => i));
    const sliced = new Set(axes.map((a) => (a < 0 ? a + t.shape.length : a)));
    const bad = t.shape.findIndex((d, i) => typeof d !== 'number' && sliced.has(i));
    if (bad >= 0) return `slice: dim ${bad} is symbolic ('${t.shape[bad]}'); bind it before slicing it`;
    const concrete = t.shape.map((d) => (typeof d === 'number' ? d : 1));
    const maps = sliceMaps(concrete, attrs);
    if (typeof maps === 'string') return maps;
    return [{ dtype: t.dtype, shape: maps.map((m, i) => (sliced.has(i) ? m.size : (t.shape[i] as Dim))) }];
  },
  reference([x], attrs) {
    const X = x as NdArray;
    const maps = sliceMaps(X.shape, attrs);
    if (typeof maps === 'string') throw new Error(`slice: ${maps}`);
    return [gatherByMaps(X, maps, 'constant', 0)];
  },
  cost(_ins, outs) {
    return { flops: 0, bytes: 2 * tensorBytes(outs) };
  },
};
