// End to end: random graphs -> lower (fusion, epilogues, aliases) -> kernels -> planner ->
// executor, compared with the float64 interpreter on every output. This is the equivalence
// property of lowering and of the buffer planner.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCnn, buildMlp } from '../../examples/models.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { bindGraph } from '../../src/ir/bind.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { arbGraph, fcParams, inputsFor } from '../prop/arbitraries.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { compiledVsInterpreter } from '../helpers/compiled-vs-interp.ts';

const runBoth = compiledVsInterpreter;

describe.skipIf(noGpu)('compiled graphs match the interpreter', () => {
  it('random graphs of every op kind', async () => {
    await fc.assert(fc.asyncProperty(arbGraph({ maxNodes: 6, maxElements: 4096, maxDim: 24 }), async ({ graph, inputs }) => {
      expect(await runBoth(graph, inputs)).toEqual([]);
    }), fcParams(25));
  });

  it('random elementwise chains (fusion) with weights as inputs', async () => {
    await fc.assert(fc.asyncProperty(arbGraph({ ops: ['unary', 'binary', 'reshape'], minNodes: 2, maxNodes: 8, weights: 'inputs' }), async ({ graph, inputs }) => {
      expect(await runBoth(graph, inputs)).toEqual([]);
    }), fcParams(25));
  });

  it('the example MLP (symbolic batch bound to 5) and CNN', async () => {
    const mlp = bindGraph(buildMlp(), { x: [5, 64] });
    expect(await runBoth(mlp, inputsFor(mlp, 3))).toEqual([]);
    const cnn = buildCnn();
    expect(await runBoth(cnn, inputsFor(cnn, 4))).toEqual([]);
  });

  it('plans less activation memory than one buffer per value for a deep chain', async () => {
    const { GraphBuilder } = await import('../../src/ir/builder.ts');
    const b = new GraphBuilder('chain');
    let v = b.input('x', 'f32', [64, 64]);
    for (let i = 0; i < 8; i++) v = b.op(i % 2 ? 'relu' : 'transpose', [v], {});
    b.output(v);
    const g = b.build();
    const { bundle } = await compileGraph(g, { ctx: await gpu() });
    expect(bundle.manifest.stats.activationBytes).toBeLessThan(bundle.manifest.stats.unplannedActivationBytes / 2);
    const x = ndarray([64, 64], Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i)));
    expect(await runBoth(g, { x })).toEqual([]);
  });
});
