// The pass pipeline: the one readable list of what runs, in order, before lowering.
// Compression passes (quantize/, sparsity/, fold/, reparam/) join this list as they land.

import type { Graph } from '../ir/graph.ts';
import { fixpoint, passContext, sequence, type Pass, type PassContext } from './pass.ts';
import { deadCodeElimination } from './simplify/dce.ts';
import { hardswishFusion } from './simplify/hardswish-fusion.ts';

export function defaultPipeline(): Pass {
  // hardswish-fusion first: the fused op then joins conv/matmul epilogues in lowering.
  return sequence('default', hardswishFusion, fixpoint(deadCodeElimination));
}

export function runPipeline(g: Graph, ctx: PassContext = passContext(), pass: Pass = defaultPipeline()): Graph {
  return pass.run(g, ctx).graph;
}
