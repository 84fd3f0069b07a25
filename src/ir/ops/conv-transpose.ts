// conv_transpose2d (ONNX ConvTranspose, NCHW): X[N, C, H, W], W[C, M/group, kH, kW], optional
// B[M]. Output size = stride*(in-1) + output_padding + ((k-1)*dil+1) - pad_begin - pad_end.
// pads are [top, left, bottom, right]; output_shape / auto_pad are resolved by front-ends.

import { isFloat } from '../dtype.ts';
import { intsAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { isConcrete, numel, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { convParams, type ConvParams } from './conv.ts';
import { tensorBytes } from './helpers.ts';

export interface ConvTransposeParams extends ConvParams {
  readonly outputPadding: readonly [number, number];
}

export function convTransposeParams(attrs: Attrs): ConvTransposeParams {
  const op = intsAttr(attrs, 'output_padding', [0, 0]);
  return { ...convParams(attrs), outputPadding: [op[0] ?? 0, op[1] ?? 0] };
}

export function convTransposeOutSize(inSize: number, k: number, stride: number, padBegin: number, padEnd: number, dil: number, outPad: number): number {
  return stride * (inSize - 1) + outPad + ((k - 1) * dil + 1) - padBegin - padEnd;
}

export const convTranspose2dOp: OpDef = {
  name: 'conv_transpose2d', category: 'conv', doc: '2-D transposed convolution (NCHW), W is [C, M/group, kH, kW]',
  inputs: { min: 2, max: 3 },
  attrs: {
    strides: { kind: 'ints', default: [1, 1] }, pads: { kind: 'ints', default: [0, 0, 0, 0] },
    dilations: { kind: 'ints', default: [1, 1] }, group: { kind: 'int', default: 1 },
    output_padding: { kind: 'ints', default: [0, 0] },
  },
  infer(ins, attrs) {
    const [x, w, b] = ins as TensorType[];
    if (!x || !w) return 'conv_transpose2d needs X and W';
    if (x.shape.length !== 4 || w.shape.length !== 4) return `conv_transpose2d needs rank-4 X and W, got rank ${x.shape.length} and ${w.shape.length}`;
    if (!isFloat(x.dtype) || x.dtype !== w.dtype) return 'conv_transpose2d needs float X and W of one dtype';
    const p = convTransposeParams(attrs);
    if (p.group < 1 || p.strides.some((v) => v < 1) || p.dilations.some((v) => v < 1) || p.pads.some((v) => v < 0)) return 'conv_transpose2d group, strides and dilations must be >= 1 and pads >= 0';
    for (const a of [0, 1] as const) {
      const op = p.outputPadding[a];
      if (op < 0 || (op >= p.strides[a] && op >= p.dilations[a])) return `conv_transpose2d output_padding ${op} must be smaller than the stride or the dilation`;
    }
    const [N, C, H, W] = x.shape as Dim[];
    const [Cw, Mg, kH, kW] = w.shape as Dim[];
    if (typeof C === 'number' && C % p.group !== 0) return `conv_transpose2d: ${C} input channels not divisible by group ${p.group}`;
    if (C !== Cw) return `conv_transpose2d: X has ${C} channels, W has ${Cw} (W is [C, M/group, kH, kW])`;
    const M: Dim = typeof Mg === 'number' ? Mg * p.group : `${Mg}*${p.group}`;
    if (b && (b.shape.length !== 1 || b.shape[0] !== M)) return `conv_transpose2d bias must have shape [${M}], got [${b.shape.join(',')}]`;
    const out = (i: Dim | undefined, k: Dim | undefined, a: 0 | 1): Dim => {
      if (typeof i !== 'number' || typeof k !== 'number') return `convt_out${a}`;
      return convTransposeOutSize(i, k, p.strides[a], p.pads[a], p.pads[a + 2] as number, p.dilations[a], p.outputPadding[a]);
    };
    const oh = out(H, kH, 0);
    const ow = out(W, kW, 1);
    if ((typeof oh === 'number' && oh < 1) || (typeof ow === 'number' && ow < 1)) return `conv_transpose2d output would be empty (${oh}x${ow}): pads too large`;
    return [{ dtype: x.dtype, shape: [N as Dim, M, oh, ow] }];
  },
  reference(ins, attrs) {
    const [X, Wt, b] = ins as [NdArray, NdArray, NdArray | undefined];
    const p = convTransposeParams(attrs);
    const [N, C, H, W] = X.shape as [number, number, number, number];
    const [, Mg, kH, kW] = Wt.shape as [number, number, number, number];
    const M = Mg * p.group;
    const Cg = C / p.group;
    const OH = convTransposeOutSize(H, kH, p.strides[0], p.pads[0], p.pads[2], p.dilations[0], p.outputPadding[0]);
    const OW = convTransposeOutSize(W, kW, p.strides[1], p.pads[1], p.pads[3], p.dilations[1], p.outputPadding[1]);
    const out = ndarray([N, M, OH, OW]);
    for (let i = 0; i < out.data.length; i++) out.data[i] = b ? (b.data[Math.floor(i / (OH * OW)) % M] as number) : 0;
    // Scatter form: every input pixel adds its weighted kernel footprint to the output.
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const g = Math.floor(c / Cg);
        for (let iy = 0; iy < H; iy++) {
          for (let ix = 0; ix < W; ix++) {
            const v = X.data[((n * C + c) * H + iy) * W + ix] as number;
            for (let ml = 0; ml < Mg; ml++) {
              const m = g * Mg + ml;
              for (let ky = 0; ky < kH; ky++) {
                const oy = iy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
                if (oy < 0 || oy >= OH) continue;
                for (let kx = 0; kx < kW; kx++) {
                  const ox = ix * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                  if (ox < 0 || ox >= OW) continue;
                  const o = ((n * M + m) * OH + oy) * OW + ox;
                  out.data[o] = (out.data[o] as number) + v * (Wt.data[((c * Mg + ml) * kH + ky) * kW + kx] as number);
                }
              }
            }
          }
        }
      }
    }
    return [out];
  },
  cost(ins, outs) {
    const x = ins[0] as TensorType;
    const w = ins[1] as TensorType;
    const flops = isConcrete(x.shape) && isConcrete(w.shape) ? 2 * numel(x.shape) * numel(w.shape.slice(1)) : 0;
    return { flops, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
