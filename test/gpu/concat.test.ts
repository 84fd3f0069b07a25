// concat lowered to the index-map kernel vs the interpreter: 2-7 inputs of ranks 1-4 with
// awkward sizes along a random (possibly negative) axis, random knobs; the binding-limit error.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  base: fc.array(awkwardSize(8), { minLength: 1, maxLength: 4 }), axisSeed: fc.nat(), negative: fc.boolean(),
  sizes: fc.array(awkwardSize(9), { minLength: 2, maxLength: 7 }), knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((c) => {
  const r = c.base.length;
  const axis = c.axisSeed % r;
  return { ...c, axis: c.negative ? axis - r : axis, inputShapes: c.sizes.map((n) => c.base.map((d, i) => (i === axis ? n : d))) };
});

describe.skipIf(!ctx)('concat on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random input counts, axes, shapes and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await expectNodeMatches(gpu, { op: 'concat', inputShapes: c.inputShapes, attrs: { axis: c.axis }, knobIndex: c.knobIndex, dataSeed: c.dataSeed });
    }), fcParams(30));
  });

  it('more inputs than one kernel can bind is a clear lowering error naming the node', () => {
    const b = new GraphBuilder('wide');
    const xs = Array.from({ length: 8 }, (_, i) => b.input(`x${i}`, 'f32', [2, 3]));
    b.output(b.op('concat', xs, { axis: 1 }, { name: 'cat8' }));
    expect(() => lowerGraph(b.build())).toThrow(/concat node 'cat8' has 8 inputs/);
  });
});
