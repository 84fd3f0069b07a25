// End to end: random graphs -> lower (fusion, epilogues, aliases) -> kernels -> planner ->
// executor, compared with the float64 interpreter on every output. This is the equivalence
// property of lowering and of the buffer planner.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCnn, buildMlp } from '../../examples/models.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { bindGraph } from '../../src/ir/bind.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { arbGraph, fcParams, inputsFor } from '../prop/arbitraries.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';

async function runBoth(g: Graph, inputs: Record<string, NdArray>): Promise<string[]> {
  const ctx = await gpu();
  const { bundle } = await compileGraph(g, { ctx, verifyPasses: true });
  const ex = await Executor.create(ctx, bundle);
  try {
    const got = await ex.run(new Map(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v.data)])));
    const want = interpret(g, inputs);
    const problems: string[] = [];
    for (const [name, ref] of want) {
      const bad = compareOutputs(got.outputs.get(name) as Float32Array, ref.data);
      if (bad) problems.push(`${name}: ${bad}`);
    }
    return problems;
  } finally {
    ex.destroy();
  }
}

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
