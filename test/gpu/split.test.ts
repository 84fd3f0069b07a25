// split lowered to one index-map kernel per output vs the interpreter: random part sizes or
// num_outputs, random (negative) axes, awkward shapes, random knobs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitSizes } from '../../src/ir/ops/concat-split.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  base: fc.array(awkwardSize(7), { minLength: 1, maxLength: 4 }), axisSeed: fc.nat(), negative: fc.boolean(),
  parts: fc.array(awkwardSize(6), { minLength: 1, maxLength: 5 }), byCount: fc.boolean(), knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((c) => {
  const r = c.base.length;
  const axis = c.axisSeed % r;
  const total = c.parts.reduce((a, b) => a + b, 0);
  const attrs = c.byCount ? { axis: c.negative ? axis - r : axis, num_outputs: c.parts.length } : { axis: c.negative ? axis - r : axis, split: c.parts };
  const n = c.byCount ? Math.max(total, c.parts.length) : total;
  return { ...c, attrs, shape: c.base.map((d, i) => (i === axis ? n : d)), n };
}).filter((c) => typeof splitSizes(c.n, c.attrs) !== 'string');

describe.skipIf(!ctx)('split on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter on every output for random sizes, axes and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const kernels = await expectNodeMatches(gpu, { op: 'split', inputShapes: [c.shape], attrs: c.attrs, knobIndex: c.knobIndex, dataSeed: c.dataSeed });
      expect(kernels).toBeGreaterThanOrEqual(1);
    }), fcParams(30));
  });
});
