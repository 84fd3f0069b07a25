// max_pool2d lowered to the pool2d kernel vs the interpreter: random awkward NCHW shapes,
// kernel sizes, strides, pads (below the window extent), dilations, ceil_mode, and knobs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { poolOutSize } from '../../src/ir/ops/pool.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';
import { poolCaseArb } from '../helpers/pool-case.ts';

const ctx = await gpuForTests();

describe.skipIf(!ctx)('max_pool2d on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, windows and knobs', async () => {
    await fc.assert(fc.asyncProperty(poolCaseArb(false), async (c) => {
      await expectNodeMatches(gpu, { op: 'max_pool2d', ...c });
    }), fcParams(30));
  });

  it('ceil_mode keeps a last window that starts in the right padding out', async () => {
    // H=5, k=2, s=2: ceil adds a third window starting at 4 (inside the input).
    expect([poolOutSize(5, 2, 2, 0, 0, 1, false), poolOutSize(5, 2, 2, 0, 0, 1, true)]).toEqual([2, 3]);
    // H=4, k=4, s=2, bottom pad 3: ceil(3/2)+1 = 3, but window 3 would start at 4 = H + top pad.
    expect(poolOutSize(4, 4, 2, 0, 3, 1, true)).toBe(2);
    await expectNodeMatches(gpu, { op: 'max_pool2d', inputShapes: [[1, 2, 5, 4]], attrs: { kernel_shape: [2, 4], strides: [2, 2], pads: [0, 0, 0, 3], ceil_mode: 1 }, knobIndex: 0, dataSeed: 3 });
  });

  it('a big odd plane with default knobs', async () => {
    await fc.assert(fc.asyncProperty(awkwardSize(3), fc.nat(), async (n, seed) => {
      await expectNodeMatches(gpu, { op: 'max_pool2d', inputShapes: [[n, 3, 31, 33]], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, knobIndex: 0, dataSeed: seed });
    }), fcParams(2));
  });
});
