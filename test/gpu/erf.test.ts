// erf as an elementwise kernel vs the interpreter's float64 erf: random shapes, inputs across
// the whole useful range (incl. the tails where erf saturates), random knobs, and erf fused
// into a chain after another op.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { elementwiseTemplate } from '../../codegen/kernels/elementwise.ts';
import type { ElementwiseProblem } from '../../codegen/problems.ts';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { opReference } from '../helpers/op-reference.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  shape: fc.array(awkwardSize(40), { minLength: 1, maxLength: 3 }).filter((s) => numel(s) <= 5000),
  range: fc.constantFrom(0.1, 1, 3, 8),
  knobIndex: fc.nat(),
  dataSeed: fc.nat(),
});

describe.skipIf(!ctx)('erf on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, ranges and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ shape, range, knobIndex, dataSeed }) => {
      const x = randomData(numel(shape), dataSeed, -range, range);
      const p: ElementwiseProblem = { kind: 'elementwise', outShape: shape, inputShapes: [shape], steps: [{ op: 'erf', attrs: {}, args: [{ input: 0 }] }] };
      const ref = opReference('erf', [{ shape, data: x }], {});
      await expectKernelMatches(gpu, elementwiseTemplate, p, pickKnobs(elementwiseTemplate, p, gpu.info, knobIndex), [x], ref.data);
    }), fcParams(20));
  });

  it('fuses after neg in one kernel', async () => {
    const shape = [7, 13];
    const x = randomData(numel(shape), 9, -4, 4);
    const p: ElementwiseProblem = {
      kind: 'elementwise', outShape: shape, inputShapes: [shape],
      steps: [{ op: 'neg', attrs: {}, args: [{ input: 0 }] }, { op: 'erf', attrs: {}, args: [{ step: 0 }] }],
    };
    const ref = opReference('erf', [{ shape, data: x.map((v) => -v) }], {});
    await expectKernelMatches(gpu, elementwiseTemplate, p, elementwiseTemplate.defaults(p, gpu.info), [x], ref.data);
  });
});
