// Weight-only quantized GEMM (past the GEMV's 8 rows) on the register GEMM skeleton
// (wgsl/lane-gemm.ts): rows of A uniform per workgroup, columns of W across lanes, each code decoded
// and dequantized (scale * (q - zero)) once per K step per column and reused by the workgroup's
// `rows` rows in registers. Both packed layouts through the random-access accessor; scalar columns
// (vec 1): packed rows have no vec4 view. Bias and epilogue as matmul-nbits-gemm.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { defaultLaneTiling, LANE_GEMM_SPACE, laneGemmBody, laneGemmGroups, laneTilingProblem, type LaneGemmTiling } from '../wgsl/lane-gemm.ts';
import { nbitsInputs, nbitsInputTypes, nbitsKey, packedWeightFn, storeNBits, weightOnlyGemmProblem } from '../wgsl/packed.ts';
import { foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export type NBitsLanesKnobs = LaneGemmTiling;

const KNOBS: KnobSpace<NBitsLanesKnobs> = LANE_GEMM_SPACE;

const dims = (p: MatmulNBitsProblem): { M: number; N: number; batches: number } => ({ M: p.M, N: p.N, batches: 1 });

export const matmulNBitsLanesTemplate: KernelTemplate<MatmulNBitsProblem, NBitsLanesKnobs> = {
  name: 'matmul-nbits-lanes',
  knobs: KNOBS,

  valid(p, k, dev) {
    return weightOnlyGemmProblem(p) ?? laneTilingProblem({ ...k, ...dims(p) }, false, dev) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'] });
    const weight = packedWeightFn(b, p);
    const body = laneGemmBody({
      ...k, ...dims(p), K: p.K, setup: '', kBound: 'arrayLength(&a)',
      loadA: (m, kk) => `a[${m} * ${u32Lit(p.K)} + ${kk}]`,
      loadB: (kk, n) => `${weight}(${n}, ${kk})`,
      store: (m, n, v) => storeNBits(b, p, m, n, v),
    });
    return b.build([k.lanes, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(laneGemmGroups({ ...k, ...dims(p) })), uniforms: [] };
  },

  defaults(p) {
    return defaultLaneTiling(p.M, false);
  },
};
