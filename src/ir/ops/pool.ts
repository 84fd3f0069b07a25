// 2-D pooling over NCHW (ONNX MaxPool/AveragePool/GlobalAveragePool): pads are [top, left,
// bottom, right]; padding cells never win a max; with ceil_mode the last window must start
// inside the input or the left padding. A window with no input cell yields 0. No storage_order.

import { isFloat } from '../dtype.ts';
import { intsAttr, numberAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import type { Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { concreteNumel, tensorBytes } from './helpers.ts';

export interface PoolParams {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly dilations: readonly [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
}

export function poolParams(attrs: Attrs): PoolParams {
  const k = intsAttr(attrs, 'kernel_shape', []);
  const s = intsAttr(attrs, 'strides', [1, 1]);
  const p = intsAttr(attrs, 'pads', [0, 0, 0, 0]);
  const d = intsAttr(attrs, 'dilations', [1, 1]);
  return {
    kernel: [k[0] ?? 0, k[1] ?? 0], strides: [s[0] ?? 1, s[1] ?? 1],
    pads: [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0], dilations: [d[0] ?? 1, d[1] ?? 1],
    ceilMode: numberAttr(attrs, 'ceil_mode', 0) !== 0,
    countIncludePad: numberAttr(attrs, 'count_include_pad', 0) !== 0,
  };
}

/** Output length along one axis (ONNX rule; the ceil_mode window must start before the right padding). */
export function poolOutSize(inSize: number, k: number, stride: number, padBegin: number, padEnd: number, dil: number, ceil: boolean): number {
  const span = inSize + padBegin + padEnd - ((k - 1) * dil + 1);
  if (!ceil) return Math.floor(span / stride) + 1;
  const out = Math.ceil(span / stride) + 1;
  return (out - 1) * stride >= inSize + padBegin ? out - 1 : out;
}

function attrProblem(op: string, attrs: Attrs): string | undefined {
  const k = intsAttr(attrs, 'kernel_shape', []);
  if (k.length !== 2 || k.some((v) => v < 1)) return `${op} needs kernel_shape [kh, kw] >= 1, got [${k.join(',')}]`;
  for (const [name, len] of [['strides', 2], ['pads', 4], ['dilations', 2]] as const) {
    const v = attrs[name];
    if (v !== undefined && (!Array.isArray(v) || v.length !== len)) return `${op} ${name} must have ${len} ints`;
  }
  const p = poolParams(attrs);
  if (p.strides.some((v) => v < 1) || p.dilations.some((v) => v < 1)) return `${op} strides and dilations must be >= 1`;
  if (p.pads.some((v) => v < 0)) return `${op} pads must be >= 0, got [${p.pads.join(',')}]`;
  for (const a of [0, 1] as const) {
    const extent = (p.kernel[a] - 1) * p.dilations[a] + 1;
    if (p.pads[a] >= extent || (p.pads[a + 2] as number) >= extent) return `${op} pads [${p.pads.join(',')}] must be smaller than the window extent ${extent}`;
  }
  return undefined;
}

function inferPool(op: string, ins: readonly TensorType[], attrs: Attrs): TensorType[] | string {
  const x = ins[0] as TensorType;
  if (x.shape.length !== 4) return `${op} needs a rank-4 NCHW input, got rank ${x.shape.length}`;
  if (!isFloat(x.dtype)) return `${op} needs a float input`;
  const bad = attrProblem(op, attrs);
  if (bad) return bad;
  const p = poolParams(attrs);
  const [N, C, H, W] = x.shape as Dim[];
  const out = (i: Dim | undefined, a: 0 | 1): Dim => typeof i === 'number'
    ? poolOutSize(i, p.kernel[a], p.strides[a], p.pads[a], p.pads[a + 2] as number, p.dilations[a], p.ceilMode)
    : `pool_out${a}`;
  const oh = out(H, 0);
  const ow = out(W, 1);
  if ((typeof oh === 'number' && oh < 1) || (typeof ow === 'number' && ow < 1)) return `${op} output would be empty (${oh}x${ow}): window larger than the padded input`;
  return [{ dtype: x.dtype, shape: [N as Dim, C as Dim, oh, ow] }];
}

/** Float64 pooling of X[N, C, H, W]; `avg` divides by the counted taps (see count_include_pad). */
export function poolReference(X: NdArray, p: PoolParams, mode: 'max' | 'avg'): NdArray {
  const [N, C, H, W] = X.shape as [number, number, number, number];
  const [kH, kW] = p.kernel;
  const [sH, sW] = p.strides;
  const [dH, dW] = p.dilations;
  const [pt, pl, pb, pr] = p.pads;
  const OH = poolOutSize(H, kH, sH, pt, pb, dH, p.ceilMode);
  const OW = poolOutSize(W, kW, sW, pl, pr, dW, p.ceilMode);
  const out = ndarray([N, C, OH, OW]);
  for (let nc = 0; nc < N * C; nc++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let acc = mode === 'max' ? -Infinity : 0;
        let taps = 0; // input cells in the window
        let padded = 0; // cells inside the padded extent (count_include_pad divisor)
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * sH - pt + ky * dH;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * sW - pl + kx * dW;
            if (iy >= -pt && iy < H + pb && ix >= -pl && ix < W + pr) padded++;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const v = X.data[(nc * H + iy) * W + ix] as number;
            acc = mode === 'max' ? Math.max(acc, v) : acc + v;
            taps++;
          }
        }
        const div = p.countIncludePad ? padded : taps;
        out.data[(nc * OH + oy) * OW + ox] = taps === 0 ? 0 : mode === 'max' ? acc : acc / div;
      }
    }
  }
  return out;
}

const POOL_ATTRS = {
  kernel_shape: { kind: 'ints', doc: '[kh, kw]' }, strides: { kind: 'ints', default: [1, 1] },
  pads: { kind: 'ints', default: [0, 0, 0, 0], doc: '[top, left, bottom, right]' },
  dilations: { kind: 'ints', default: [1, 1] }, ceil_mode: { kind: 'int', default: 0 },
} as const;

function poolCost(ins: readonly TensorType[], outs: readonly TensorType[], attrs: Attrs): { flops: number; bytes: number } {
  const p = poolParams(attrs);
  return { flops: concreteNumel(outs[0] as TensorType) * p.kernel[0] * p.kernel[1], bytes: tensorBytes(ins) + tensorBytes(outs) };
}

export const maxPool2dOp: OpDef = {
  name: 'max_pool2d', category: 'pool', doc: 'max over each window (NCHW); padding cells are ignored',
  inputs: { min: 1, max: 1 }, attrs: POOL_ATTRS,
  infer: (ins, attrs) => inferPool('max_pool2d', ins, attrs),
  reference: ([x], attrs) => [poolReference(x as NdArray, poolParams(attrs), 'max')],
  cost: poolCost,
};

export const avgPool2dOp: OpDef = {
  name: 'avg_pool2d', category: 'pool', doc: 'mean over each window (NCHW); count_include_pad=1 counts padding cells',
  inputs: { min: 1, max: 1 }, attrs: { ...POOL_ATTRS, count_include_pad: { kind: 'int', default: 0 } },
  infer: (ins, attrs) => inferPool('avg_pool2d', ins, attrs),
  reference: ([x], attrs) => [poolReference(x as NdArray, poolParams(attrs), 'avg')],
  cost: poolCost,
};

export const globalAvgPoolOp: OpDef = {
  name: 'global_avg_pool', category: 'pool', doc: 'mean over all spatial dims: [N, C, D...] -> [N, C, 1...]',
  inputs: { min: 1, max: 1 }, attrs: {},
  infer([x]) {
    const t = x as TensorType;
    if (t.shape.length < 3) return `global_avg_pool needs rank >= 3 (N, C, spatial...), got rank ${t.shape.length}`;
    if (!isFloat(t.dtype)) return 'global_avg_pool needs a float input';
    return [{ dtype: t.dtype, shape: [t.shape[0] as Dim, t.shape[1] as Dim, ...t.shape.slice(2).map(() => 1)] }];
  },
  reference([x]) {
    const X = x as NdArray;
    const planes = (X.shape[0] as number) * (X.shape[1] as number);
    const S = X.data.length / planes;
    const out = ndarray([X.shape[0] as number, X.shape[1] as number, ...X.shape.slice(2).map(() => 1)]);
    for (let i = 0; i < planes; i++) {
      let s = 0;
      for (let j = 0; j < S; j++) s += X.data[i * S + j] as number;
      out.data[i] = s / S;
    }
    return [out];
  },
  cost(ins, outs) {
    return { flops: concreteNumel(ins[0] as TensorType), bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
