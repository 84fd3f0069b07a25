// global_avg_pool lowered to a row-mean reduce (one row per (n, c)) vs the interpreter: ranks 3-5 with
// awkward sizes (a plane up to a few thousand elements), random knobs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const shapeArb = fc.tuple(fc.integer({ min: 1, max: 3 }), awkwardSize(9), fc.array(awkwardSize(40), { minLength: 1, maxLength: 3 }))
  .map(([n, c, sp]) => [n, c, ...sp])
  .filter((s) => numel(s) <= 20000);

describe.skipIf(!ctx)('global_avg_pool on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random ranks, shapes and knobs', async () => {
    await fc.assert(fc.asyncProperty(shapeArb, fc.nat(), fc.nat(), async (shape, knobIndex, dataSeed) => {
      expect(await expectNodeMatches(gpu, { op: 'global_avg_pool', inputShapes: [shape], attrs: {}, knobIndex, dataSeed })).toBe(1);
    }), fcParams(12));
  });
});
