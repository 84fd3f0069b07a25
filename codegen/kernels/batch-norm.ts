// Inference batch norm over X viewed as [outer, C, inner]: y = (x - mean[c]) * scale[c] /
// sqrt(var[c] + eps) + B[c], followed by a fused unary epilogue. One element per invocation
// (`elemsPerThread` strided elements each); the per-channel factors are recomputed, not cached.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { BatchNormProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { perElementBody, perElementDefaults, perElementKnobs, perElementLaunch, perElementProblem, type PerElementKnobs } from '../wgsl/per-element.ts';
import { f32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';

export type BatchNormKnobs = PerElementKnobs;

const KNOBS: KnobSpace<BatchNormKnobs> = perElementKnobs();

function total(p: BatchNormProblem): number {
  return p.outer * p.C * p.inner;
}

export const batchNormTemplate: KernelTemplate<BatchNormProblem, BatchNormKnobs> = {
  name: 'batch-norm',
  knobs: KNOBS,

  valid(p, k, dev) {
    if ([p.outer, p.C, p.inner].some((d) => d < 1)) return 'empty batch norm';
    return epilogueProblem(p.epilogue) ?? perElementProblem(total(p), k, dev) ?? true;
  },

  key(p) {
    return `O${p.outer}C${p.C}I${p.inner};eps${p.epsilon};epi:${epilogueKey(p.epilogue)}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['x', 'scale', 'bias', 'mean', 'variance'], outputs: ['out'] });
    const body = perElementBody(total(p), k, [
      `let c = (i / ${u32Lit(p.inner)}) % ${u32Lit(p.C)};`,
      // inverseSqrt may be approximate; 1/sqrt keeps the f32 error near one ulp.
      `let y = (x[i] - mean[c]) * (scale[c] / sqrt(variance[c] + ${f32Lit(p.epsilon)})) + bias[c];`,
      `out[i] = ${applyEpilogue(p.epilogue, 'y', b)};`,
    ]);
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return perElementLaunch(total(p), k);
  },

  defaults(p) {
    return perElementDefaults(total(p));
  },
};
