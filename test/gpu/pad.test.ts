// pad lowered to the index-map kernel vs the interpreter: ranks 1-5, constant (with negative
// pads that crop), reflect and edge, random values and knobs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  shape: fc.array(awkwardSize(9), { minLength: 1, maxLength: 5 }),
  padSeed: fc.array(fc.integer({ min: -3, max: 8 }), { minLength: 10, maxLength: 10 }),
  mode: fc.constantFrom('constant', 'reflect', 'edge'), value: fc.constantFrom(0, 1.5, -7.25),
  knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((c) => {
  const r = c.shape.length;
  const pads = Array.from({ length: 2 * r }, (_, i) => {
    const n = c.shape[i % r] as number;
    const v = c.padSeed[i] as number;
    // reflect/edge refuse crops (reflect pads may exceed the dim); constant may crop but keeps >= 1 cell.
    if (c.mode !== 'constant') return Math.max(0, v);
    return Math.max(v, -Math.floor((n - 1) / 2));
  });
  return { ...c, pads };
}).filter((c) => c.shape.reduce((a, n, d) => a * (n + (c.pads[d] as number) + (c.pads[d + c.shape.length] as number)), 1) <= 20000);

describe.skipIf(!ctx)('pad on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random ranks, pads, modes and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await expectNodeMatches(gpu, { op: 'pad', inputShapes: [c.shape], attrs: { pads: c.pads, mode: c.mode, value: c.value }, knobIndex: c.knobIndex, dataSeed: c.dataSeed });
    }), fcParams(40));
  });
});
