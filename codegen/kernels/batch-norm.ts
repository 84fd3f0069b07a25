// Inference batch norm over X viewed as [outer, C, inner]: y = (x - mean[c]) * scale[c] /
// sqrt(var[c] + eps) + B[c], followed by a fused unary epilogue. One element per invocation
// (`elemsPerThread` strided elements each); the per-channel factors are recomputed, not cached.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { BatchNormProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { ceilDiv, dispatchProblem, f32Lit, foldDispatch, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';

export type BatchNormKnobs = {
  readonly workgroupSize: number;
  readonly elemsPerThread: number;
};

const KNOBS: KnobSpace<BatchNormKnobs> = { workgroupSize: [64, 128, 256], elemsPerThread: [1, 2, 4] };

function total(p: BatchNormProblem): number {
  return p.outer * p.C * p.inner;
}

function groups(p: BatchNormProblem, k: BatchNormKnobs): number {
  return ceilDiv(total(p), k.workgroupSize * k.elemsPerThread);
}

export const batchNormTemplate: KernelTemplate<BatchNormProblem, BatchNormKnobs> = {
  name: 'batch-norm',
  knobs: KNOBS,

  valid(p, k, dev) {
    if ([p.outer, p.C, p.inner].some((d) => d < 1)) return 'empty batch norm';
    if (total(p) > 0xffffffff - k.workgroupSize * k.elemsPerThread) return 'tensor too large for 32-bit indexing';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    return epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return `O${p.outer}C${p.C}I${p.inner};eps${p.epsilon};epi:${epilogueKey(p.epilogue)}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['x', 'scale', 'bias', 'mean', 'variance'], outputs: ['out'] });
    const body = [
      `let base = groupIdx * ${u32Lit(k.workgroupSize * k.elemsPerThread)} + lidx;`,
      `for (var e = 0u; e < ${u32Lit(k.elemsPerThread)}; e++) {`,
      `  let i = base + e * ${u32Lit(k.workgroupSize)};`,
      `  if (i >= ${u32Lit(total(p))}) { break; }`,
      `  let c = (i / ${u32Lit(p.inner)}) % ${u32Lit(p.C)};`,
      // inverseSqrt may be approximate; 1/sqrt keeps the f32 error near one ulp.
      `  let y = (x[i] - mean[c]) * (scale[c] / sqrt(variance[c] + ${f32Lit(p.epsilon)})) + bias[c];`,
      `  out[i] = ${applyEpilogue(p.epilogue, 'y', b)};`,
      '}',
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: [] };
  },

  defaults(p) {
    return { workgroupSize: 256, elemsPerThread: total(p) >= 1 << 20 ? 4 : 1 };
  },
};
