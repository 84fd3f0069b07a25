// slice lowered to the index-map kernel vs the interpreter: ranks 1-4, random subsets of
// axes (negative too), starts/ends beyond the bounds and negative, steps of both signs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { sliceMaps } from '../../src/ir/ops/pad-slice.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const endpoint = fc.oneof(fc.integer({ min: -12, max: 12 }), fc.constantFrom(2147483647, -2147483648));

const caseArb = fc.record({
  shape: fc.array(awkwardSize(11), { minLength: 1, maxLength: 4 }),
  picks: fc.array(fc.record({ start: endpoint, end: endpoint, step: fc.constantFrom(1, 2, 3, -1, -2, -3), neg: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((c) => {
  const picks = c.picks.slice(0, c.shape.length);
  const r = c.shape.length;
  const attrs = {
    starts: picks.map((p) => p.start), ends: picks.map((p) => p.end), steps: picks.map((p) => p.step),
    axes: picks.map((p, i) => (p.neg ? i - r : i)),
  };
  return { ...c, attrs };
}).filter((c) => typeof sliceMaps(c.shape, c.attrs) !== 'string');

describe.skipIf(!ctx)('slice on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random starts, ends, axes, steps and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await expectNodeMatches(gpu, { op: 'slice', inputShapes: [c.shape], attrs: c.attrs, knobIndex: c.knobIndex, dataSeed: c.dataSeed });
    }), fcParams(40));
  });
});
