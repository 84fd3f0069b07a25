// Batched matmul / gemm on the shared tiled-GEMM skeleton: C = epi(alpha * op(A) op(B) + beta * bias).
// Shapes, transposes, batch strides, bias strides and the epilogue are baked; alpha and beta
// are uniforms so gemms differing only in scale share WGSL. Bias never varies with the batch.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { foldDispatch, offsetFn, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { defaultTiling, GEMM_TILING_SPACE, tiledGemmBody, tiledGemmGroups, tilingProblem, type GemmTiling, type TiledGemmSpec } from '../wgsl/tiled-gemm.ts';
import { numel } from '../../src/ir/shape.ts';

export type MatmulKnobs = GemmTiling;

const KNOBS: KnobSpace<MatmulKnobs> = GEMM_TILING_SPACE;

function uniformsOf(p: MatmulProblem): Uniform[] {
  return [{ name: 'alpha', type: 'f32', value: p.alpha }, { name: 'beta', type: 'f32', value: p.beta }];
}

const batches = (p: MatmulProblem): number => numel(p.batchShape);

function spec(b: ShaderBuilder, p: MatmulProblem, k: MatmulKnobs): TiledGemmSpec {
  const { M, N, K } = p;
  const off = (name: string, strides: readonly number[]): string => {
    if (!p.batchShape.length || strides.every((s) => s === 0)) return '0u';
    b.helper(name, offsetFn(name, p.batchShape, strides));
    return `${name}(batch)`;
  };
  const setup = `let aOff = ${off('aBatchOffset', p.aBatchStrides)};\nlet bOff = ${off('bBatchOffset', p.bBatchStrides)};`;
  const bias = p.bias;
  return {
    ...k, M, N, K, batches: batches(p), setup,
    aContiguous: p.transA ? 'm' : 'k',
    bContiguous: p.transB ? 'k' : 'n',
    loadA: (m, kk) => (p.transA ? `a[aOff + ${kk} * ${u32Lit(M)} + ${m}]` : `a[aOff + ${m} * ${u32Lit(K)} + ${kk}]`),
    loadB: (kk, n) => (p.transB ? `b[bOff + ${n} * ${u32Lit(K)} + ${kk}]` : `b[bOff + ${kk} * ${u32Lit(N)} + ${n}]`),
    store: (m, n, v) => {
      const lines = [`var r = params.alpha * ${v};`];
      if (bias) lines.push(`r += params.beta * c[${m} * ${u32Lit(bias.strideM)} + ${n} * ${u32Lit(bias.strideN)}];`);
      lines.push(`out[batch * ${u32Lit(M * N)} + ${m} * ${u32Lit(N)} + ${n}] = ${applyEpilogue(p.epilogue, 'r', b)};`);
      return lines.join('\n');
    },
  };
}

export const matmulTemplate: KernelTemplate<MatmulProblem, MatmulKnobs> = {
  name: 'matmul-tiled',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
    const n = batches(p) * p.M * p.N;
    if (n > 0xffffffff) return `${n} outputs overflow u32 indexing`;
    return epilogueProblem(p.epilogue) ?? tilingProblem({ ...k, M: p.M, N: p.N, batches: batches(p) }, dev) ?? true;
  },

  key(p) {
    const bias = p.bias ? `bias${p.bias.strideM},${p.bias.strideN}` : 'nobias';
    return [
      `batch[${p.batchShape.join(',')}]a[${p.aBatchStrides.join(',')}]b[${p.bBatchStrides.join(',')}]`,
      `M${p.M}N${p.N}K${p.K}`, `tA${Number(p.transA)}tB${Number(p.transB)}`, bias, `epi:${epilogueKey(p.epilogue)}`,
    ].join(';');
  },

  source(p, k) {
    const inputs = p.bias ? ['a', 'b', 'c'] : ['a', 'b'];
    const b = new ShaderBuilder({ inputs, outputs: ['out'], uniforms: uniformsOf(p) });
    const { workgroupSize, body } = tiledGemmBody(b, spec(b, p, k));
    return b.build(workgroupSize, body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(tiledGemmGroups({ ...k, M: p.M, N: p.N, batches: batches(p) })), uniforms: uniformsOf(p) };
  },

  defaults(p) {
    return defaultTiling(p.M, p.N, p.K);
  },
};
