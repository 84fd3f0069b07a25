// Weight-only quantized NCHW conv2d as one implicit GEMM per conv group (like conv2d-implicit-gemm):
// A = dequant(W_g) [M/group x K] staged from packed codes, dequantized once per staged element and
// shared by the workgroup's tileN pixels; B = im2col patches. Any width 1–8, both layouts, groups
// (depthwise leaves the M tile mostly idle), stride, padding, dilation, bias, epilogue.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { Conv2dNBitsProblem, Conv2dProblem } from '../problems.ts';
import { applyEpilogue } from '../wgsl/expr.ts';
import { packedProblem, packedWeightFn, type PackedWeight } from '../wgsl/packed.ts';
import { foldDispatch, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { defaultTiling, GEMM_TILING_SPACE, tiledGemmBody, tiledGemmGroups, tilingProblem, type GemmTiling, type TiledGemmSpec } from '../wgsl/tiled-gemm.ts';
import { convKey, convShapeProblem } from './conv2d-direct.ts';
import { im2colFn } from './conv2d-implicit-gemm.ts';

export type Conv2dNBitsKnobs = GemmTiling;

const KNOBS: KnobSpace<Conv2dNBitsKnobs> = GEMM_TILING_SPACE;

/** The conv's geometry as a float conv problem (for the shared shape checks and key). */
const asConv = (p: Conv2dNBitsProblem): Conv2dProblem => ({ ...p, kind: 'conv2d' });

function gemmDims(p: Conv2dNBitsProblem): { M: number; N: number; K: number; batches: number } {
  return { M: p.M / p.group, N: p.N * p.OH * p.OW, K: (p.C / p.group) * p.kH * p.kW, batches: p.group };
}

/** The packed weight as matmul-nbits sees it: M rows of K codes. */
export function packedOf(p: Conv2dNBitsProblem): PackedWeight {
  return { N: p.M, K: (p.C / p.group) * p.kH * p.kW, bits: p.bits, group: p.quantGroup, layout: p.layout };
}

function spec(b: ShaderBuilder, p: Conv2dNBitsProblem, k: Conv2dNBitsKnobs): TiledGemmSpec {
  const d = gemmDims(p);
  const ohw = p.OH * p.OW;
  b.helper('im2col', im2colFn(asConv(p)));
  const weight = packedWeightFn(b, packedOf(p));
  return {
    ...k, ...d,
    // Packed rows run along K: adjacent invocations decode adjacent codes of one output channel.
    aContiguous: 'k',
    bContiguous: 'n',
    setup: `let mOff = batch * ${u32Lit(d.M)};`,
    loadA: (m, kk) => `${weight}(mOff + ${m}, ${kk})`,
    loadB: (kk, n) => `im2col(batch, ${kk}, ${n})`,
    store: (m, n, v) => {
      const val = p.bias ? `${v} + bias[mOff + ${m}]` : v;
      return `out[((${n} / ${u32Lit(ohw)}) * ${u32Lit(p.M)} + mOff + ${m}) * ${u32Lit(ohw)} + ${n} % ${u32Lit(ohw)}] = ${applyEpilogue(p.epilogue, val, b)};`;
    },
  };
}

export function conv2dNBitsInputs(p: Conv2dNBitsProblem): string[] {
  return p.bias ? ['x', 'words', 'scales', 'zeros', 'bias'] : ['x', 'words', 'scales', 'zeros'];
}

export const conv2dNBitsTemplate: KernelTemplate<Conv2dNBitsProblem, Conv2dNBitsKnobs> = {
  name: 'conv2d-nbits',
  knobs: KNOBS,

  valid(p, k, dev) {
    return convShapeProblem(asConv(p)) ?? packedProblem(packedOf(p)) ?? tilingProblem({ ...k, ...gemmDims(p) }, dev) ?? true;
  },

  key(p) {
    return `${convKey(asConv(p))};b${p.bits}q${p.quantGroup};${p.layout}`;
  },

  source(p, k) {
    const inputs = conv2dNBitsInputs(p);
    const b = new ShaderBuilder({ inputs, inputTypes: inputs.map((n) => (n === 'words' ? 'u32' : 'f32')), outputs: ['out'] });
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
