// Batched matmul / gemm on the shared tiled-GEMM skeleton: C = epi(alpha * op(A) op(B) + beta * bias).
// Shapes, transposes, batch strides, bias strides and the epilogue are baked; alpha and beta
// are uniforms so gemms differing only in scale share WGSL. Bias never varies with the batch.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { epilogueKey } from '../wgsl/expr.ts';
import { batchOffsetSetup, f32GemmProblem, loadA, loadB, matmulInputs, matmulKey, matmulUniforms, storeResult } from '../wgsl/matmul-io.ts';
import { foldDispatch, ShaderBuilder } from '../wgsl/shader.ts';
import { defaultTiling, GEMM_TILING_SPACE, tiledGemmBody, tiledGemmGroups, tilingProblem, type GemmTiling, type TiledGemmSpec } from '../wgsl/tiled-gemm.ts';
import { numel } from '../../src/ir/shape.ts';

export type MatmulKnobs = GemmTiling;

const KNOBS: KnobSpace<MatmulKnobs> = GEMM_TILING_SPACE;

const batches = (p: MatmulProblem): number => numel(p.batchShape);

function spec(b: ShaderBuilder, p: MatmulProblem, k: MatmulKnobs): TiledGemmSpec {
  return {
    ...k, M: p.M, N: p.N, K: p.K, batches: batches(p), setup: batchOffsetSetup(b, p),
    aContiguous: p.transA ? 'm' : 'k',
    bContiguous: p.transB ? 'k' : 'n',
    loadA: (m, kk) => loadA(p, m, kk),
    loadB: (kk, n) => loadB(p, kk, n),
    store: (m, n, v) => storeResult(b, p, m, n, v),
  };
}

export const matmulTemplate: KernelTemplate<MatmulProblem, MatmulKnobs> = {
  name: 'matmul-tiled',
  knobs: KNOBS,

  valid(p, k, dev) {
    return f32GemmProblem(p, batches(p)) ?? tilingProblem({ ...k, M: p.M, N: p.N, batches: batches(p) }, dev) ?? true;
  },

  key(p) {
    return `${matmulKey(p)};epi:${epilogueKey(p.epilogue)}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: matmulInputs(p), outputs: ['out'], uniforms: matmulUniforms(p) });
    const { workgroupSize, body } = tiledGemmBody(b, spec(b, p, k));
    return b.build(workgroupSize, body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(tiledGemmGroups({ ...k, M: p.M, N: p.N, batches: batches(p) })), uniforms: matmulUniforms(p) };
  },

  defaults(p) {
    return defaultTiling(p.M, p.N, p.K);
  },
};
