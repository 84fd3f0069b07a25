// avg_pool2d lowered to the pool2d kernel vs the interpreter: random awkward NCHW shapes,
// windows, strides, pads, dilations, ceil_mode, count_include_pad 0/1, and knobs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';
import { poolCaseArb } from '../helpers/pool-case.ts';

const ctx = await gpuForTests();

describe.skipIf(!ctx)('avg_pool2d on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, windows, padding modes and knobs', async () => {
    await fc.assert(fc.asyncProperty(poolCaseArb(true), async (c) => {
      await expectNodeMatches(gpu, { op: 'avg_pool2d', ...c });
    }), fcParams(30));
  });

  it('count_include_pad with ceil_mode clips the divisor at the padded edge', async () => {
    for (const incl of [0, 1]) {
      await expectNodeMatches(gpu, {
        op: 'avg_pool2d', inputShapes: [[1, 3, 7, 6]], knobIndex: incl, dataSeed: 11,
        attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0], ceil_mode: 1, count_include_pad: incl },
      });
    }
  });
});
