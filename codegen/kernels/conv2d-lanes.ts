// NCHW conv2d as one GEMM per (image, group) on the register GEMM skeleton (wgsl/lane-gemm.ts):
// A = W_g [M/group x C/group*kH*kW] (rows uniform per workgroup: weight loads are broadcasts),
// B = patches [C/group*kH*kW x OH*OW] gathered on the fly, pixels across lanes. Pointwise convs
// (1x1, stride 1, no padding) read B directly, as vec4s when OH*OW % 4 == 0. Any stride, padding,
// dilation, bias, epilogue; no workgroup memory. Leaves depthwise-like (< 4 output channels per group)
// and tiny-image (< 16 pixels) convs to conv2d-depthwise / conv2d-direct.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { Conv2dProblem, ConvGeometry } from '../problems.ts';
import { applyEpilogue } from '../wgsl/expr.ts';
import { defaultLaneTiling, LANE_GEMM_SPACE, laneGemmBody, laneGemmGroups, laneTilingProblem, type LaneGemmTiling } from '../wgsl/lane-gemm.ts';
import { foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { convKey, convShapeProblem } from './conv2d-direct.ts';

export type Conv2dLanesKnobs = LaneGemmTiling;

const KNOBS: KnobSpace<Conv2dLanesKnobs> = LANE_GEMM_SPACE;

export function convGemmDims(p: ConvGeometry): { M: number; N: number; K: number; batches: number } {
  return { M: p.M / p.group, N: p.OH * p.OW, K: (p.C / p.group) * p.kH * p.kW, batches: p.N * p.group };
}

/** B is the input itself: 1x1 taps, stride 1, no padding. */
export function isPointwise(p: ConvGeometry): boolean {
  return p.kH === 1 && p.kW === 1 && p.strides[0] === 1 && p.strides[1] === 1 && p.pads[0] === 0 && p.pads[1] === 0 && p.OH === p.H && p.OW === p.W;
}

/** vec4 loads and stores: every row of B and C starts 16-byte aligned. */
export const convVec4Ok = (p: ConvGeometry): boolean => isPointwise(p) && (p.OH * p.OW) % 4 === 0;

/** `fn patchAt(xk, iy, ix) -> f32`: input pixel (iy, ix) of the channel plane at xk; 0 in the padding. */
function patchFn(p: ConvGeometry): string {
  return [
    'fn patchAt(xk: u32, iy: i32, ix: i32) -> f32 {',
    // Out-of-range taps read a clamped (valid) address and are zeroed by the select: no branch.
    `  let v = x[xk + u32(clamp(iy, 0i, ${i32Lit(p.H - 1)})) * ${u32Lit(p.W)} + u32(clamp(ix, 0i, ${i32Lit(p.W - 1)}))];`,
    `  return select(0.0, v, iy >= 0i && iy < ${i32Lit(p.H)} && ix >= 0i && ix < ${i32Lit(p.W)});`,
    '}',
  ].join('\n');
}

/** How the GEMM's A (the weights) is read: f32 `w` by default. */
export interface ConvWeights {
  /** W_g[m, k] for group `g` (a WGSL u32 in scope), `m` and `k` workgroup-uniform. */
  load(m: string, k: string, d: { M: number; K: number }): string;
  /** The lane GEMM's kBound: a run-time u32 >= K. */
  readonly kBound: string;
}

const F32_WEIGHTS: ConvWeights = { load: (m, kk, d) => `w[wOff + ${m} * ${u32Lit(d.K)} + ${kk}]`, kBound: 'arrayLength(&w)' };

/** The body of `main` for conv `p` (any ConvGeometry) with weights read through `wts`. */
export function convLanesBody(b: ShaderBuilder, p: ConvGeometry, k: Conv2dLanesKnobs, wts: ConvWeights = F32_WEIGHTS): string {
  const d = convGemmDims(p);
  const hw = p.H * p.W;
  const ohw = p.OH * p.OW;
  const khw = p.kH * p.kW;
  const v4 = k.vec === 4;
  const pointwise = isPointwise(p);
  if (!pointwise) b.helper('patchAt', patchFn(p));
  const biasAt = (m: string): string => `bias[g * ${u32Lit(d.M)} + ${m}]`;
  return laneGemmBody({
    ...k, ...d, kBound: wts.kBound,
    setup: [
      `let img = batch / ${u32Lit(p.group)};`,
      `let g = batch % ${u32Lit(p.group)};`,
      `let wOff = g * ${u32Lit(d.M * d.K)};`,
      `let xOff = (img * ${u32Lit(p.C)} + g * ${u32Lit(p.C / p.group)}) * ${u32Lit(hw)};`,
      `let oOff = (img * ${u32Lit(p.M)} + g * ${u32Lit(d.M)}) * ${u32Lit(ohw)};`,
    ].join('\n'),
    ...(pointwise ? {} : {
      kSetup: `let xk = xOff + (k / ${u32Lit(khw)}) * ${u32Lit(hw)};\nlet ky = i32(((k % ${u32Lit(khw)}) / ${p.kW}u) * ${p.dilations[0]}u);\nlet kx = i32((k % ${p.kW}u) * ${p.dilations[1]}u);`,
      colSetup: (n: string, j: number) => `let iy${j} = i32((${n} / ${u32Lit(p.OW)}) * ${p.strides[0]}u) - ${i32Lit(p.pads[0])};\nlet ix${j} = i32((${n} % ${u32Lit(p.OW)}) * ${p.strides[1]}u) - ${i32Lit(p.pads[1])};`,
    }),
    loadA: (m, kk) => wts.load(m, kk, d),
    loadB: (kk, n, j) => {
      if (!pointwise) return `patchAt(xk, iy${j} + ky, ix${j} + kx)`;
      const at = `xOff + ${kk} * ${u32Lit(hw)} + ${n}`;
      return v4 ? `x[(${at}) / 4u]` : `x[${at}]`;
    },
    store: (m, n, v) => `out[oOff + ${m} * ${u32Lit(ohw)} + ${n}] = ${applyEpilogue(p.epilogue, p.bias ? `${v} + ${biasAt(m)}` : v, b)};`,
    storeVec4: (m, n, v) => {
      const r = p.bias ? `(${v} + vec4<f32>(${biasAt(m)}))` : v;
      const val = p.epilogue.length ? `vec4<f32>(${['x', 'y', 'z', 'w'].map((c) => applyEpilogue(p.epilogue, `r.${c}`, b)).join(', ')})` : 'r';
      return `let r = ${r};\nout[(oOff + ${m} * ${u32Lit(ohw)} + ${n}) / 4u] = ${val};`;
    },
  });
}

/** Fewer pixels than this leave most of an 8-lane SIMD chunk idle. */
const MIN_PIXELS = 16;
/** Fewer output channels per group than this (depthwise: 1) leave the uniform rows nearly empty. */
const MIN_GROUP_CHANNELS = 4;

/** Why the lane GEMM should leave `p` to another conv template, or undefined. */
export function convLanesProblem(p: ConvGeometry): string | undefined {
  // Both limits send the problem to conv2d-direct, which spreads channels over lanes: measured on
  // PP-OCRv4 rec, 0.07 vs 0.18 ms for its 240->60 squeeze-excite conv at 1x1, and depthwise 5x5
  // 240 channels at 12x80 3.6 vs 6.4 ms.
  if (p.OH * p.OW < MIN_PIXELS) return `${p.OH * p.OW} output pixels < ${MIN_PIXELS}: lanes would idle (conv2d-direct serves it)`;
  if (p.M / p.group < MIN_GROUP_CHANNELS) return `${p.M / p.group} output channels per group < ${MIN_GROUP_CHANNELS} (conv2d-direct serves it)`;
  return undefined;
}

export const conv2dLanesTemplate: KernelTemplate<Conv2dProblem, Conv2dLanesKnobs> = {
  name: 'conv2d-lanes',
  knobs: KNOBS,

  valid(p, k, dev) {
    return convLanesProblem(p) ?? convShapeProblem(p) ?? laneTilingProblem({ ...k, ...convGemmDims(p) }, convVec4Ok(p), dev) ?? true;
  },

  key: convKey,

  source(p, k) {
    const v4 = k.vec === 4;
    const b = new ShaderBuilder({
      inputs: p.bias ? ['x', 'w', 'bias'] : ['x', 'w'], outputs: ['out'],
      inputTypes: [v4 ? 'vec4<f32>' : 'f32', 'f32', 'f32'], outputTypes: [v4 ? 'vec4<f32>' : 'f32'],
    });
    return b.build([k.lanes, 1, 1], convLanesBody(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(laneGemmGroups({ ...k, ...convGemmDims(p) })), uniforms: [] };
  },

  defaults(p) {
    return defaultLaneTiling(p.M / p.group, convVec4Ok(p));
  },
};
