// The pass pipeline: the one readable list of what runs, in order, before lowering.
// Compression passes (quantize/, sparsity/, fold/, reparam/) join this list as they land.

import type { Graph } from '../ir/graph.ts';
import { fixpoint, passContext, sequence, type Pass, type PassContext } from './pass.ts';
import { biasFusion } from './simplify/bias-fusion.ts';
import { constantFolding } from './simplify/const-fold.ts';
import { deadCodeElimination } from './simplify/dce.ts';
import { hardswishFusion } from './simplify/hardswish-fusion.ts';
import { layerNormFusion } from './simplify/layer-norm-fusion.ts';
import { quantizePass, type QuantizeOptions } from './quantize/quantize-pass.ts';
import { scalarAffine } from './simplify/scalar-affine.ts';
import { transposedConvAsConv } from './simplify/transposed-conv-as-conv.ts';
import { gemvWeightLayout } from './legalize/gemv-weight-layout.ts';
import { PORTABLE_BINDING_BYTES, splitWideWeights } from './legalize/split-wide-weights.ts';

export function defaultPipeline(quantize?: QuantizeOptions, maxBindingBytes = PORTABLE_BINDING_BYTES): Pass {
  // const-fold first so weight-only chains become the constants the fusions look for; it is
  // capped at 1M elements (and never grows a constant past its inputs) so bundles stay small.
  // hardswish-fusion before lowering: the fused op then joins conv/matmul epilogues.
  // bias-fusion repeats: conv -> mul -> add (decomposed BatchNorm) folds one step per round.
  // quantize (only when asked) after bias-fusion, so fused biases ride along into matmul_nbits.
  // scalar-affine after the fusions that match mul/add patterns and after quantize (smoothing folds
  // into constant muls): scalar mul/add/sub become affine, which epilogues absorb.
  // transposed-conv-as-conv before bias-fusion, which then folds the per-channel mul/add it moved
  // before the shuffle into the new conv.
  // gemv-weight-layout after quantize (float weights only) stores GEMV weights as [N, K].
  // split-wide-weights after quantize (packed weights are smaller, so fewer blocks): weights over
  // the binding limit become column blocks + concat.
  // DCE last drops the constants and nodes the others left behind.
  return sequence('default',
    constantFolding({ maxElements: 1 << 20 }),
    hardswishFusion,
    layerNormFusion,
    transposedConvAsConv,
    fixpoint(biasFusion),
    ...(quantize ? [quantizePass(quantize)] : []),
    scalarAffine,
    gemvWeightLayout,
    splitWideWeights({ maxBindingBytes }),
    fixpoint(deadCodeElimination));
}

export function runPipeline(g: Graph, ctx: PassContext = passContext(), pass: Pass = defaultPipeline()): Graph {
  return pass.run(g, ctx).graph;
}
