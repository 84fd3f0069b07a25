// resize lowered to the resize kernel vs the interpreter: nearest and bilinear, every
// coordinate_transformation_mode and nearest_mode, up- and down-scaling to awkward sizes
// (including 1, where align_corners and pytorch_half_pixel special-case), random knobs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { COORD_MODES, NEAREST_MODES, RESIZE_MODES } from '../../src/ir/ops/resize.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  lead: fc.array(awkwardSize(4), { minLength: 0, maxLength: 2 }),
  h: awkwardSize(19), w: awkwardSize(19), oh: awkwardSize(40), ow: awkwardSize(40),
  mode: fc.constantFrom(...RESIZE_MODES), coord: fc.constantFrom(...COORD_MODES), nearest: fc.constantFrom(...NEAREST_MODES),
  knobIndex: fc.nat(), dataSeed: fc.nat(),
});

describe.skipIf(!ctx)('resize on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random sizes, modes and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await expectNodeMatches(gpu, {
        op: 'resize', inputShapes: [[...c.lead, c.h, c.w]], knobIndex: c.knobIndex, dataSeed: c.dataSeed,
        attrs: { mode: c.mode, coordinate_transformation_mode: c.coord, nearest_mode: c.nearest, sizes: [...c.lead, c.oh, c.ow] },
      });
    }), fcParams(40));
  });

  it('exact 2x up/down scales, where nearest ties happen', async () => {
    for (const nearest of NEAREST_MODES) {
      for (const [h, oh] of [[4, 2], [3, 6], [6, 3]] as const) {
        await expectNodeMatches(gpu, {
          op: 'resize', inputShapes: [[1, 2, h, h + 1]], knobIndex: 1, dataSeed: h,
          attrs: { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: nearest, sizes: [1, 2, oh, 2 * (h + 1)] },
        });
      }
    }
  });
});
