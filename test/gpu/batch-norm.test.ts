// batch_norm (inference) lowered to the batch-norm kernel vs the interpreter: ranks 2-5,
// awkward channel counts, positive variances, random epsilon, a fused relu epilogue, knobs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile/compile.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, fcParams, gpuForTests, randomData } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }), c: awkwardSize(33), spatial: fc.array(awkwardSize(13), { minLength: 0, maxLength: 3 }),
  epsilon: fc.constantFrom(1e-5, 1e-3, 0.1), knobIndex: fc.nat(), dataSeed: fc.nat(),
}).filter((c) => c.n * c.c * numel(c.spatial) <= 20000);

describe.skipIf(!ctx)('batch_norm on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random ranks, channels, epsilon and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const C = c.c;
      await expectNodeMatches(gpu, {
        op: 'batch_norm', inputShapes: [[c.n, C, ...c.spatial], [C], [C], [C], [C]], attrs: { epsilon: c.epsilon },
        knobIndex: c.knobIndex, dataSeed: c.dataSeed,
        data: [undefined, randomData(C, c.dataSeed + 1, 0.5, 2), undefined, undefined, randomData(C, c.dataSeed + 2, 0, 3)],
      });
    }), fcParams(30));
  });

  it('absorbs a following relu into its epilogue', async () => {
    const b = new GraphBuilder('bn');
    const x = b.input('x', 'f32', [1, 3, 4, 4]);
    const ps = ['s', 'b', 'm', 'v'].map((n) => b.input(n, 'f32', [3]));
    b.output(b.op('relu', [b.op('batch_norm', [x, ...ps])]));
    const { lowered } = await compileGraph(b.build(), { ctx: gpu });
    expect(lowered.kernels.map((k) => k.problem.kind)).toEqual(['batch-norm']);
  });
});
