// resize (ONNX Resize-11+ with `sizes`): nearest or bilinear over the last two dims, scale =
// out/in. Source coordinates are exact rationals (a*x + b)/den, so nearest ties are decided
// exactly, the same way on the host and in WGSL. No cubic, antialias, roi or tf_crop_and_resize.

import { isFloat } from '../dtype.ts';
import { intsAttr, stringAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import type { Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { concreteNumel, tensorBytes } from './helpers.ts';

export const RESIZE_MODES = ['nearest', 'linear'] as const;
export const COORD_MODES = ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'tf_half_pixel_for_nearest'] as const;
export const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];
export type CoordMode = (typeof COORD_MODES)[number];
export type NearestMode = (typeof NEAREST_MODES)[number];

export interface ResizeParams {
  readonly mode: ResizeMode;
  readonly coord: CoordMode;
  readonly nearest: NearestMode;
}

export function resizeParams(attrs: Attrs): ResizeParams {
  return {
    mode: stringAttr(attrs, 'mode', 'nearest') as ResizeMode,
    coord: stringAttr(attrs, 'coordinate_transformation_mode', 'half_pixel') as CoordMode,
    nearest: stringAttr(attrs, 'nearest_mode', 'round_prefer_floor') as NearestMode,
  };
}

/** Source coordinate of output index x is (a*x + b) / den (den > 0), per the ONNX formulas. */
export interface AxisRational {
  readonly a: number;
  readonly b: number;
  readonly den: number;
}

export function axisRational(coord: CoordMode, inSize: number, outSize: number): AxisRational {
  switch (coord) {
    case 'asymmetric': return { a: inSize, b: 0, den: outSize }; // x / scale
    case 'tf_half_pixel_for_nearest': return { a: 2 * inSize, b: inSize, den: 2 * outSize }; // (x + 0.5) / scale
    case 'align_corners': return outSize === 1 ? { a: 0, b: 0, den: 1 } : { a: inSize - 1, b: 0, den: outSize - 1 };
    case 'pytorch_half_pixel': if (outSize === 1) return { a: 0, b: 0, den: 1 };
    // falls through: otherwise identical to half_pixel
    case 'half_pixel': return { a: 2 * inSize, b: inSize - outSize, den: 2 * outSize }; // (x + 0.5) / scale - 0.5
  }
}

/** One output index's sources along an axis: value = (1 - w) * in[i0] + w * in[i1]. */
export interface AxisTap {
  readonly i0: number;
  readonly i1: number;
  readonly w: number;
}

export function axisTap(p: ResizeParams, r: AxisRational, inSize: number, x: number): AxisTap {
  const num = r.a * x + r.b;
  const fl = Math.floor(num / r.den);
  const rem = num - fl * r.den; // in [0, den): exact integer arithmetic
  if (p.mode === 'nearest') {
    let i: number;
    if (p.nearest === 'floor') i = fl;
    else if (p.nearest === 'ceil') i = rem > 0 ? fl + 1 : fl;
    else if (2 * rem !== r.den) i = 2 * rem < r.den ? fl : fl + 1;
    else i = p.nearest === 'round_prefer_floor' ? fl : fl + 1;
    i = Math.min(Math.max(i, 0), inSize - 1);
    return { i0: i, i1: i, w: 0 };
  }
  // Linear clamps the coordinate into [0, in - 1] (edge padding in the ONNX reference).
  if (num <= 0) return { i0: 0, i1: 0, w: 0 };
  if (fl >= inSize - 1) return { i0: inSize - 1, i1: inSize - 1, w: 0 };
  return { i0: fl, i1: fl + 1, w: rem / r.den };
}

export const resizeOp: OpDef = {
  name: 'resize', category: 'layout', doc: 'nearest/bilinear resize of the last two dims to `sizes` (ONNX Resize semantics)',
  inputs: { min: 1, max: 1 },
  attrs: {
    mode: { kind: 'string', default: 'nearest' }, coordinate_transformation_mode: { kind: 'string', default: 'half_pixel' },
    nearest_mode: { kind: 'string', default: 'round_prefer_floor' }, sizes: { kind: 'ints', doc: 'full output shape' },
  },
  infer([x], attrs) {
    const t = x as TensorType;
    const p = resizeParams(attrs);
    if (!RESIZE_MODES.includes(p.mode)) return `resize mode must be one of ${RESIZE_MODES.join('|')}, got '${p.mode}'`;
    if (!COORD_MODES.includes(p.coord)) return `resize coordinate_transformation_mode must be one of ${COORD_MODES.join('|')}, got '${p.coord}'`;
    if (!NEAREST_MODES.includes(p.nearest)) return `resize nearest_mode must be one of ${NEAREST_MODES.join('|')}, got '${p.nearest}'`;
    if (!isFloat(t.dtype)) return 'resize needs a float input';
    const sizes = intsAttr(attrs, 'sizes', []);
    const r = t.shape.length;
    if (r < 2 || sizes.length !== r) return `resize sizes must give all ${r} dims (rank >= 2), got [${sizes.join(',')}]`;
    if (sizes.some((s) => !Number.isInteger(s) || s < 1)) return `resize sizes must be >= 1, got [${sizes.join(',')}]`;
    for (let d = 0; d < r - 2; d++) {
      const dim = t.shape[d] as Dim;
      if (typeof dim === 'number' && dim !== sizes[d]) return `resize can only change the last two dims; dim ${d} is ${dim}, sizes say ${sizes[d]}`;
    }
    return [{ dtype: t.dtype, shape: [...t.shape.slice(0, r - 2), ...sizes.slice(r - 2)] }];
  },
  reference([x], attrs) {
    const X = x as NdArray;
    const p = resizeParams(attrs);
    const sizes = intsAttr(attrs, 'sizes', []);
    const r = X.shape.length;
    const [H, W] = X.shape.slice(r - 2) as [number, number];
    const [OH, OW] = sizes.slice(r - 2) as [number, number];
    const planes = X.data.length / (H * W);
    const ty = Array.from({ length: OH }, (_, y) => axisTap(p, axisRational(p.coord, H, OH), H, y));
    const tx = Array.from({ length: OW }, (_, xx) => axisTap(p, axisRational(p.coord, W, OW), W, xx));
    const out = ndarray([...X.shape.slice(0, r - 2), OH, OW]);
    for (let pl = 0; pl < planes; pl++) {
      const at = (yy: number, xx: number): number => X.data[(pl * H + yy) * W + xx] as number;
      for (let oy = 0; oy < OH; oy++) {
        const a = ty[oy] as AxisTap;
        for (let ox = 0; ox < OW; ox++) {
          const b = tx[ox] as AxisTap;
          const top = (1 - b.w) * at(a.i0, b.i0) + b.w * at(a.i0, b.i1);
          const bot = (1 - b.w) * at(a.i1, b.i0) + b.w * at(a.i1, b.i1);
          out.data[(pl * OH + oy) * OW + ox] = (1 - a.w) * top + a.w * bot;
        }
      }
    }
    return [out];
  },
  cost(ins, outs, attrs) {
    const perOut = resizeParams(attrs).mode === 'linear' ? 9 : 0;
    return { flops: concreteNumel(outs[0] as TensorType) * perOut, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
