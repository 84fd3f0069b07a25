// f32 batched matmul / gemm on the register GEMM skeleton (wgsl/lane-gemm.ts): no workgroup memory,
// rows of A uniform per workgroup, columns of B across lanes, vec4 loads of B when it is contiguous
// along N (not transB, N and B's batch strides multiples of 4). Same problem, bias and epilogue
// handling as matmul-tiled (matmul-io.ts); GEMV-sized problems are better served by matmul-gemv.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { epilogueKey } from '../wgsl/expr.ts';
import { defaultLaneTiling, LANE_GEMM_SPACE, laneGemmBody, laneGemmGroups, laneTilingProblem, type LaneGemmTiling } from '../wgsl/lane-gemm.ts';
import { bakedScales, batchOffsetSetup, f32GemmProblem, loadA, loadB, matmulInputs, matmulKey, storeResult, storeResultVec4 } from '../wgsl/matmul-io.ts';
import { foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { numel } from '../../src/ir/shape.ts';

export type MatmulLanesKnobs = LaneGemmTiling;

const KNOBS: KnobSpace<MatmulLanesKnobs> = LANE_GEMM_SPACE;

const batches = (p: MatmulProblem): number => numel(p.batchShape);

/** vec4 loads of B need it contiguous along N at 16-byte aligned offsets. */
export function matmulVec4Ok(p: MatmulProblem): boolean {
  return !p.transB && p.N % 4 === 0 && p.bBatchStrides.every((s) => s % 4 === 0);
}

const dims = (p: MatmulProblem): { M: number; N: number; batches: number } => ({ M: p.M, N: p.N, batches: batches(p) });

export const matmulLanesTemplate: KernelTemplate<MatmulProblem, MatmulLanesKnobs> = {
  name: 'matmul-lanes',
  knobs: KNOBS,

  valid(p, k, dev) {
    return f32GemmProblem(p, batches(p)) ?? laneTilingProblem({ ...k, ...dims(p) }, matmulVec4Ok(p), dev) ?? true;
  },

  // alpha and beta are baked (no uniform buffer: measured ~25% faster on lavapipe), so they are keyed.
  key(p) {
    return `${matmulKey(p)};epi:${epilogueKey(p.epilogue)};alpha${p.alpha};beta${p.beta}`;
  },

  source(p, k) {
    // vec 4 implies N % 4 == 0 (matmulVec4Ok), so every output row starts 16-byte aligned.
    const vec4Out = k.vec === 4;
    const inputTypes = matmulInputs(p).map((name) => (name === 'b' && k.vec === 4 ? 'vec4<f32>' : 'f32'));
    const b = new ShaderBuilder({ inputs: matmulInputs(p), inputTypes, outputTypes: [vec4Out ? 'vec4<f32>' : 'f32'], outputs: ['out'] });
    const sc = bakedScales(p);
    const body = laneGemmBody({
      ...k, ...dims(p), K: p.K, setup: batchOffsetSetup(b, p), kBound: 'arrayLength(&a)',
      loadA: (m, kk) => loadA(p, m, kk),
      // vec 4: bOff and n are multiples of 4 (matmulVec4Ok), so this is B[k, n..n+3].
      loadB: (kk, n) => (k.vec === 4 ? `b[bOff / 4u + ${kk} * ${u32Lit(p.N / 4)} + ${n} / 4u]` : loadB(p, kk, n)),
      store: (m, n, v) => storeResult(b, p, m, n, v, sc),
      storeVec4: (m, n, v) => storeResultVec4(b, p, m, n, v, sc),
    });
    return b.build([k.lanes, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(laneGemmGroups({ ...k, ...dims(p) })), uniforms: [] };
  },

  defaults(p) {
    return defaultLaneTiling(p.M, matmulVec4Ok(p));
  },
};
