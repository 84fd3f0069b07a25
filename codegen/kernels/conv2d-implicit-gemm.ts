// NCHW conv2d as one GEMM per group on the shared tiled skeleton, with im2col done on the fly
// while staging B: A = W_g [M/group x C/group*kH*kW], B = patches [C/group*kH*kW x N*OH*OW].
// Handles groups (depthwise too, though it wastes the M tile), stride, padding, dilation, bias,
// epilogue. Wins over conv2d-direct when channel counts are large.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { Conv2dProblem } from '../problems.ts';
import { applyEpilogue } from '../wgsl/expr.ts';
import { foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { defaultTiling, GEMM_TILING_SPACE, tiledGemmBody, tiledGemmGroups, tilingProblem, type GemmTiling, type TiledGemmSpec } from '../wgsl/tiled-gemm.ts';
import { convKey, convShapeProblem } from './conv2d-direct.ts';

export type Conv2dImplicitGemmKnobs = GemmTiling;

const KNOBS: KnobSpace<Conv2dImplicitGemmKnobs> = GEMM_TILING_SPACE;

function gemmDims(p: Conv2dProblem): { M: number; N: number; K: number; batches: number } {
  return { M: p.M / p.group, N: p.N * p.OH * p.OW, K: (p.C / p.group) * p.kH * p.kW, batches: p.group };
}

/** `fn im2col(g, k, p) -> f32`: input pixel for GEMM row k (c, ky, kx) and column p (n, oh, ow) of group g; 0 in padding. */
export function im2colFn(p: Conv2dProblem): string {
  const Cg = p.C / p.group;
  const khw = p.kH * p.kW;
  const ohw = p.OH * p.OW;
  return [
    'fn im2col(g: u32, k: u32, p: u32) -> f32 {',
    `  let c = k / ${u32Lit(khw)};`,
    `  let r = k % ${u32Lit(khw)};`,
    `  let n = p / ${u32Lit(ohw)};`,
    `  let q = p % ${u32Lit(ohw)};`,
    `  let iy = i32((q / ${u32Lit(p.OW)}) * ${p.strides[0]}u + (r / ${p.kW}u) * ${p.dilations[0]}u) - ${i32Lit(p.pads[0])};`,
    `  let ix = i32((q % ${u32Lit(p.OW)}) * ${p.strides[1]}u + (r % ${p.kW}u) * ${p.dilations[1]}u) - ${i32Lit(p.pads[1])};`,
    `  if (iy < 0i || iy >= ${i32Lit(p.H)} || ix < 0i || ix >= ${i32Lit(p.W)}) { return 0.0; }`,
    `  return x[((n * ${u32Lit(p.C)} + g * ${u32Lit(Cg)} + c) * ${u32Lit(p.H)} + u32(iy)) * ${u32Lit(p.W)} + u32(ix)];`,
    '}',
  ].join('\n');
}

function spec(b: ShaderBuilder, p: Conv2dProblem, k: Conv2dImplicitGemmKnobs): TiledGemmSpec {
  const d = gemmDims(p);
  const ohw = p.OH * p.OW;
  b.helper('im2col', im2colFn(p));
  return {
    ...k, ...d,
    aContiguous: 'k',
    bContiguous: 'n', // adjacent pixels: adjacent input columns when stride is 1
    setup: `let wOff = batch * ${u32Lit(d.M * d.K)};\nlet mOff = batch * ${u32Lit(d.M)};`,
    loadA: (m, kk) => `w[wOff + ${m} * ${u32Lit(d.K)} + ${kk}]`,
    loadB: (kk, n) => `im2col(batch, ${kk}, ${n})`,
    store: (m, n, v) => {
      const val = p.bias ? `${v} + bias[mOff + ${m}]` : v;
      return `out[((${n} / ${u32Lit(ohw)}) * ${u32Lit(p.M)} + mOff + ${m}) * ${u32Lit(ohw)} + ${n} % ${u32Lit(ohw)}] = ${applyEpilogue(p.epilogue, val, b)};`;
    },
  };
}

export const conv2dImplicitGemmTemplate: KernelTemplate<Conv2dProblem, Conv2dImplicitGemmKnobs> = {
  name: 'conv2d-implicit-gemm',
  knobs: KNOBS,

  valid(p, k, dev) {
    return convShapeProblem(p) ?? tilingProblem({ ...k, ...gemmDims(p) }, dev) ?? true;
  },

  key: convKey,

  source(p, k) {
    const b = new ShaderBuilder({ inputs: p.bias ? ['x', 'w', 'bias'] : ['x', 'w'], outputs: ['out'] });
    const { workgroupSize, body } = tiledGemmBody(b, spec(b, p, k));
    return b.build(workgroupSize, body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(tiledGemmGroups({ ...k, ...gemmDims(p) })), uniforms: [] };
  },

  defaults(p) {
    const d = gemmDims(p);
    return defaultTiling(d.M, d.N, d.K);
  },
};
