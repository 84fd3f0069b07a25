// rms_norm kernel vs the interpreter: random ranks 1-4, axis anywhere, scale of the full
// normalized shape or broadcast over it, random epsilon and knobs (subgroups included).

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { rowNormTemplate } from '../../codegen/kernels/row-norm.ts';
import type { RowNormProblem } from '../../codegen/problems.ts';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { loweredProblem } from '../helpers/lowered-problem.ts';
import { opReference, type Operand } from '../helpers/op-reference.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  shape: fc.array(awkwardSize(40), { minLength: 1, maxLength: 4 }).filter((s) => numel(s) <= 4000),
  axisPick: fc.nat(),
  scaleDrop: fc.nat({ max: 3 }),
  scaleOnes: fc.nat({ max: 15 }),
  epsilon: fc.constantFrom(1e-6, 1e-5, 0.5),
  magnitude: fc.constantFrom(0.01, 1, 30),
  knobIndex: fc.nat(),
  dataSeed: fc.nat(),
});

describe.skipIf(!ctx)('rms_norm on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, axes, scales, epsilon and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const a = c.axisPick % c.shape.length;
      const attrs = { axis: a - c.shape.length, epsilon: c.epsilon };
      const norm = c.shape.slice(a);
      const sShape = norm.slice(Math.min(c.scaleDrop, norm.length - 1)).map((d, i) => ((c.scaleOnes >> i) & 1 ? 1 : d));
      const operands: Operand[] = [
        { shape: c.shape, data: randomData(numel(c.shape), c.dataSeed, -c.magnitude, c.magnitude) },
        { shape: sShape, data: randomData(numel(sShape), c.dataSeed + 1, -2, 2) },
      ];
      const p = loweredProblem<RowNormProblem>('rms_norm', operands, attrs);
      const ref = opReference('rms_norm', operands, attrs);
      const k = pickKnobs(rowNormTemplate, p, gpu.info, c.knobIndex);
      await expectKernelMatches(gpu, rowNormTemplate, p, k, operands.map((o) => o.data as Float32Array), ref.data);
    }), fcParams(20));
  });
});
