// conv2d over NCHW: X[N, C, H, W], W[M, C/group, kH, kW], optional bias B[M].
// pads are [top, left, bottom, right] (ONNX order); auto_pad is resolved by front-ends.

import { isFloat } from '../dtype.ts';
import { intsAttr, numberAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';

export interface ConvParams {
  strides: readonly [number, number];
  pads: readonly [number, number, number, number];
  dilations: readonly [number, number];
  group: number;
}

export function convParams(attrs: Attrs): ConvParams {
  const s = intsAttr(attrs, 'strides', [1, 1]);
  const p = intsAttr(attrs, 'pads', [0, 0, 0, 0]);
  const d = intsAttr(attrs, 'dilations', [1, 1]);
  return {
    strides: [s[0] ?? 1, s[1] ?? 1],
    pads: [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0],
    dilations: [d[0] ?? 1, d[1] ?? 1],
    group: numberAttr(attrs, 'group', 1),
  };
}

export function convOutSize(inSize: number, k: number, stride: number, padBegin: number, padEnd: number, dil: number): number {
  return Math.floor((inSize + padBegin + padEnd - dil * (k - 1) - 1) / stride) + 1;
}

export const conv2dOp: OpDef = {
  name: 'conv2d', category: 'conv', doc: '2-D convolution (NCHW) with groups, stride, padding, dilation and optional bias',
  inputs: { min: 2, max: 3 },
  attrs: {
    strides: { kind: 'ints', default: [1, 1] }, pads: { kind: 'ints', default: [0, 0, 0, 0] },
    dilations: { kind: 'ints', default: [1, 1] }, group: { kind: 'int', default: 1 },
  },
  infer(ins, attrs) {
    const [x, w, b] = ins as TensorType[];
    if (!x || !w) return 'conv2d needs X and W';
    if (x.shape.length !== 4 || w.shape.length !== 4) return `conv2d needs rank-4 X and W, got rank ${x.shape.length} and ${w.shape.length}`;
    if (!isFloat(x.dtype) || x.dtype !== w.dtype) return 'conv2d needs float X and W of one dtype';
    const p = convParams(attrs);
    if (p.strides.some((v) => v < 1) || p.dilations.some((v) => v < 1) || p.pads.some((v) => v < 0)) return 'conv2d strides and dilations must be >= 1 and pads >= 0';
    const [N, C, H, W] = x.shape as Dim[];
    const [M, Cg, kH, kW] = w.shape as Dim[];
    if (typeof M === 'number' && M % p.group !== 0) return `conv2d: ${M} output channels not divisible by group ${p.group}`;
    if (typeof C === 'number' && typeof Cg === 'number' && C !== Cg * p.group) return `conv2d: X has ${C} channels, W expects ${Cg} x group ${p.group}`;
    if (b && (b.shape.length !== 1 || b.shape[0] !== M)) return `conv2d bias must have shape [${M}], got [${b.shape.join(',')}]`;
    const out = (i: Dim | undefined, k: Dim | undefined, a: 0 | 1): Dim => {
      if (typeof i !== 'number' || typeof k !== 'number') return `conv_out${a}`;
      return convOutSize(i, k, p.strides[a], p.pads[a], p.pads[a + 2] as number, p.dilations[a]);
    };
    const oh = out(H, kH, 0);
    const ow = out(W, kW, 1);
    if ((typeof oh === 'number' && oh < 1) || (typeof ow === 'number' && ow < 1)) return `conv2d output would be empty (${oh}x${ow})`;
    return [{ dtype: x.dtype, shape: [N as Dim, M as Dim, oh, ow] }];
  },
  reference(ins, attrs) {
    const [x, w, b] = ins as NdArray[];
    const X = x as NdArray;
    const Wt = w as NdArray;
    const p = convParams(attrs);
    const [N, C, H, W] = X.shape as number[];
    const [M, Cg, kH, kW] = Wt.shape as number[];
    const OH = convOutSize(H as number, kH as number, p.strides[0], p.pads[0], p.pads[2], p.dilations[0]);
    const OW = convOutSize(W as number, kW as number, p.strides[1], p.pads[1], p.pads[3], p.dilations[1]);
    const Mg = (M as number) / p.group;
    const out = ndarray([N as number, M as number, OH, OW]);
    for (let n = 0; n < (N as number); n++) {
      for (let m = 0; m < (M as number); m++) {
        const g = Math.floor(m / Mg);
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            let s = b ? (b.data[m] as number) : 0;
            for (let c = 0; c < (Cg as number); c++) {
              const ci = g * (Cg as number) + c;
              for (let ky = 0; ky < (kH as number); ky++) {
                const iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
                if (iy < 0 || iy >= (H as number)) continue;
                for (let kx = 0; kx < (kW as number); kx++) {
                  const ix = ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                  if (ix < 0 || ix >= (W as number)) continue;
                  s += (X.data[((n * (C as number) + ci) * (H as number) + iy) * (W as number) + ix] as number) *
                    (Wt.data[((m * (Cg as number) + c) * (kH as number) + ky) * (kW as number) + kx] as number);
                }
              }
            }
            out.data[((n * (M as number) + m) * OH + oy) * OW + ox] = s;
          }
        }
      }
    }
    return [out];
  },
  cost(ins, outs) {
    const o = outs[0] as TensorType;
    const w = ins[1] as TensorType;
    const perOut = isConcrete(w.shape) ? 2 * numel(w.shape.slice(1)) : 0;
    return { flops: isConcrete(o.shape) ? numel(o.shape) * perOut : 0, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
