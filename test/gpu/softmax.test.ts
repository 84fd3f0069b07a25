// softmax / log_softmax kernels vs the interpreter: random ranks 1-4 with awkward dims, any
// axis (negative too; inner strides when it is not last), large-magnitude inputs (the max must
// be subtracted), and knobs drawn from the template's valid space incl. subgroups.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowNormTemplate } from '../../codegen/kernels/row-norm.ts';
import type { RowNormProblem } from '../../codegen/problems.ts';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { loweredProblem } from '../helpers/lowered-problem.ts';
import { opReference } from '../helpers/op-reference.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  shape: fc.array(awkwardSize(40), { minLength: 1, maxLength: 4 }).filter((s) => numel(s) <= 4000),
  op: fc.constantFrom('softmax', 'log_softmax'),
  axisPick: fc.nat(),
  negative: fc.boolean(),
  magnitude: fc.constantFrom(1, 10, 80),
  knobIndex: fc.nat(),
  dataSeed: fc.nat(),
});

describe.skipIf(!ctx)('softmax kernels on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('match the interpreter for random shapes, axes and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ shape, op, axisPick, negative, magnitude, knobIndex, dataSeed }) => {
      const a = axisPick % shape.length;
      const attrs = { axis: negative ? a - shape.length : a };
      const x = randomData(numel(shape), dataSeed, -magnitude, magnitude);
      const p = loweredProblem<RowNormProblem>(op, [{ shape, data: x }], attrs);
      const ref = opReference(op, [{ shape, data: x }], attrs);
      await expectKernelMatches(gpu, rowNormTemplate, p, pickKnobs(rowNormTemplate, p, gpu.info, knobIndex), [x], ref.data);
    }), fcParams(20));
  });

  it('stays finite on inputs whose exp overflows f32, serial, tree and subgroup paths', async () => {
    const shape = [2, 257];
    const x = randomData(numel(shape), 3, 100, 400);
    for (const op of ['softmax', 'log_softmax']) {
      const p = loweredProblem<RowNormProblem>(op, [{ shape, data: x }], {});
      const ref = opReference(op, [{ shape, data: x }], {});
      expect(ref.data.every(Number.isFinite)).toBe(true);
      // One thread per row, a tree, and (where the device has them) subgroups.
      for (const [threadsPerRow, subgroups] of [[1, false], [16, false], [256, false], [256, true]] as const) {
        const k = { threadsPerRow, workgroupSize: 256, subgroups };
        if (rowNormTemplate.valid(p, k, gpu.info) === true) await expectKernelMatches(gpu, rowNormTemplate, p, k, [x], ref.data);
      }
    }
  });
});
