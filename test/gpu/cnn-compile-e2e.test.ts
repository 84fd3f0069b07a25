// The CNN op batch in whole graphs: compileGraph (lowering incl. split's per-output kernels,
// depth_to_space's transpose view, epilogue fusion into batch_norm/conv_transpose2d) + Executor
// vs the interpreter on every output, for a hand-built graph and random graphs from arbGraph.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile/compile.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/shape.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { arbGraph, fcParams, inputsFor } from '../prop/arbitraries.ts';
import { CNN_OP_KINDS } from '../prop/arbitraries-cnn.ts';
import { CNN_OPS } from '../../src/ir/ops/cnn.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { compiledVsInterpreter } from '../helpers/compiled-vs-interp.ts';
import { randomData } from '../helpers/kernel-check.ts';

const runBoth = compiledVsInterpreter;

function weight(b: GraphBuilder, name: string, shape: number[], seed: number, lo = -1, hi = 1): string {
  return b.initializer(name, tensor('f32', shape, randomData(numel(shape), seed, lo, hi)));
}

/** Every op of the batch in one graph, with odd sizes, two outputs and a split feeding both. */
function cnnGraph(): Graph {
  const b = new GraphBuilder('cnn-batch');
  const x = b.input('x', 'f32', [2, 6, 7, 9]);
  let y = b.op('conv_transpose2d', [x, weight(b, 'wt', [6, 4, 3, 3], 1), weight(b, 'bt', [4], 2)], { strides: [2, 2], pads: [1, 1, 1, 0], output_padding: [1, 0] });
  y = b.op('batch_norm', [y, weight(b, 's', [4], 3, 0.5, 2), weight(b, 'bb', [4], 4), weight(b, 'm', [4], 5), weight(b, 'v', [4], 6, 0.1, 2)], { epsilon: 1e-3 });
  y = b.op('relu', [y]);
  y = b.op('max_pool2d', [y], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 });
  y = b.op('pad', [y], { pads: [0, 0, 1, 2, 0, 0, 2, 1], mode: 'reflect' });
  y = b.op('resize', [y], { mode: 'linear', coordinate_transformation_mode: 'half_pixel', sizes: [2, 4, 13, 11] });
  const [lo, hi] = b.opMulti('split', [y], { axis: 1, split: [1, 3] }) as [string, string];
  const ds = b.op('depth_to_space', [b.op('concat', [lo, hi, lo, hi, lo, hi], { axis: 1 })], { blocksize: 2, mode: 'CRD' });
  const sl = b.op('slice', [ds], { starts: [-1, 1], ends: [-100, 24], axes: [3, 2], steps: [-2, 3] });
  const pooled = b.op('avg_pool2d', [sl], { kernel_shape: [2, 3], strides: [1, 2], pads: [0, 1, 1, 1], count_include_pad: 1 });
  b.output(b.op('global_avg_pool', [pooled]));
  b.output(hi);
  return b.build();
}

describe.skipIf(noGpu)('CNN-batch ops in compiled graphs', () => {
  it('a graph using every op matches the interpreter on all outputs', async () => {
    const g = cnnGraph();
    const { lowered } = await compileGraph(g, { ctx: await gpu() });
    const kinds = lowered.kernels.map((k) => k.problem.kind);
    expect(kinds).toEqual(['conv-transpose2d', 'batch-norm', 'pool2d', 'index-map', 'resize', 'index-map', 'index-map', 'index-map', 'transpose', 'index-map', 'pool2d', 'reduce']);
    expect(await runBoth(g, inputsFor(g, 7))).toEqual([]);
  });

  it('random graphs mixing the batch with unary ops match the interpreter', async () => {
    const ops = new Set(fc.sample(arbGraph({ ops: CNN_OP_KINDS, maxNodes: 4 }), { seed: 3, numRuns: 80 }).flatMap((c) => c.graph.nodes.map((n) => n.op)));
    for (const d of CNN_OPS) expect(ops.has(d.name), d.name).toBe(true);
    await fc.assert(fc.asyncProperty(arbGraph({ ops: [...CNN_OP_KINDS, 'unary'], minNodes: 2, maxNodes: 5, maxElements: 1024 }), async ({ graph, inputs }) => {
      expect(await runBoth(graph, inputs)).toEqual([]);
    }), fcParams(15));
  });
});
