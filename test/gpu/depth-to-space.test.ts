// depth_to_space lowered to a transpose of a 6-D view vs the interpreter (whose reference is
// written with direct index formulas): DCR and CRD, block sizes 1-4, awkward sizes, knobs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }), co: awkwardSize(5), b: fc.integer({ min: 1, max: 4 }),
  h: awkwardSize(9), w: awkwardSize(9), mode: fc.constantFrom('DCR', 'CRD'), knobIndex: fc.nat(), dataSeed: fc.nat(),
}).filter((c) => c.n * c.co * c.b * c.b * c.h * c.w <= 20000);

describe.skipIf(!ctx)('depth_to_space on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for both modes, random block sizes, shapes and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await expectNodeMatches(gpu, {
        op: 'depth_to_space', inputShapes: [[c.n, c.co * c.b * c.b, c.h, c.w]], attrs: { blocksize: c.b, mode: c.mode },
        knobIndex: c.knobIndex, dataSeed: c.dataSeed,
      });
    }), fcParams(30));
  });
});
