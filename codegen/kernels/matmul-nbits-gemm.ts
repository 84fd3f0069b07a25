// Weight-only quantized GEMM (any M, preferred past 8 rows) on the shared tiled-GEMM skeleton:
// B tiles are staged from packed codes, dequantized once per staged element (scale * (q - zero))
// and shared by the workgroup's tileM rows, so decoding is amortised over M. Both layouts work
// through the random-access accessor; planes cost `bits` word reads per code (no popcount here).

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { nbitsInputs, nbitsInputTypes, nbitsKey, packedWeightFn, storeNBits, weightOnlyGemmProblem } from '../wgsl/packed.ts';
import { foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { defaultTiling, GEMM_TILING_SPACE, tiledGemmBody, tiledGemmGroups, tilingProblem, type GemmTiling, type TiledGemmSpec } from '../wgsl/tiled-gemm.ts';

export type NBitsGemmKnobs = GemmTiling;

const KNOBS: KnobSpace<NBitsGemmKnobs> = GEMM_TILING_SPACE;

function spec(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsGemmKnobs): TiledGemmSpec {
  const weight = packedWeightFn(b, p);
  return {
    ...k, M: p.M, N: p.N, K: p.K, batches: 1, setup: '',
    aContiguous: 'k',
    // W[N, K] is packed along K: adjacent invocations decode adjacent codes of one row.
    bContiguous: 'k',
    loadA: (m, kk) => `a[${m} * ${u32Lit(p.K)} + ${kk}]`,
    loadB: (kk, n) => `${weight}(${n}, ${kk})`,
    store: (m, n, v) => storeNBits(b, p, m, n, v),
  };
}

export const matmulNBitsGemmTemplate: KernelTemplate<MatmulNBitsProblem, NBitsGemmKnobs> = {
  name: 'matmul-nbits-gemm',
  knobs: KNOBS,

  valid(p, k, dev) {
    return weightOnlyGemmProblem(p) ?? tilingProblem({ ...k, M: p.M, N: p.N, batches: 1 }, dev) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'] });
    const { workgroupSize, body } = tiledGemmBody(b, spec(b, p, k));
    return b.build(workgroupSize, body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(tiledGemmGroups({ ...k, M: p.M, N: p.N, batches: 1 })), uniforms: [] };
  },

  defaults(p) {
    return defaultTiling(p.M, p.N, p.K);
  },
};
