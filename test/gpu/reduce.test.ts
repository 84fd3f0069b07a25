// reduce_sum / reduce_mean / reduce_max kernels vs the interpreter: random ranks 1-4 with
// awkward dims, random axis sets (negative, unsorted, empty = all), keepdims, and knobs drawn
// from the template's valid space (subgroups included where the device has them).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reduceTemplate } from '../../codegen/kernels/reduce.ts';
import type { ReduceProblem } from '../../codegen/problems.ts';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { loweredProblem } from '../helpers/lowered-problem.ts';
import { opReference } from '../helpers/op-reference.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  shape: fc.array(awkwardSize(40), { minLength: 1, maxLength: 4 }).filter((s) => numel(s) <= 5000),
  op: fc.constantFrom('reduce_sum', 'reduce_mean', 'reduce_max'),
  pickAxes: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  negative: fc.boolean(),
  keepdims: fc.constantFrom(0, 1),
  knobIndex: fc.nat(),
  dataSeed: fc.nat(),
});

const lowered = (op: string, shape: readonly number[], attrs: Record<string, number | number[]>): ReduceProblem =>
  loweredProblem(op, [{ shape, data: new Float32Array(0) }], attrs);

describe.skipIf(!ctx)('reduce kernels on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('match the interpreter for random shapes, axes, keepdims and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ shape, op, pickAxes, negative, keepdims, knobIndex, dataSeed }) => {
      const axes = shape.map((_, i) => i).filter((i) => pickAxes[i]).map((i) => (negative ? i - shape.length : i)).reverse();
      const attrs = { axes, keepdims };
      const p = lowered(op, shape, attrs);
      const x = randomData(numel(shape), dataSeed, -3, 3);
      const ref = opReference(op, [{ shape, data: x }], attrs);
      await expectKernelMatches(gpu, reduceTemplate, p, pickKnobs(reduceTemplate, p, gpu.info, knobIndex), [x], ref.data);
    }), fcParams(25));
  });

  it('serial, tree and subgroup paths on a long prime-length reduction, and the defaults', async () => {
    const shape = [3, 1031];
    const p = lowered('reduce_max', shape, { axes: [1], keepdims: 0 });
    const x = randomData(numel(shape), 7, -100, 100);
    const ref = opReference('reduce_max', [{ shape, data: x }], { axes: [1], keepdims: 0 });
    const settings = [reduceTemplate.defaults(p, gpu.info),
      ...[1, 4, 64, 256].flatMap((threadsPerRow) => [false, true].map((subgroups) => ({ threadsPerRow, workgroupSize: 256, subgroups })))];
    let ran = 0;
    for (const k of settings) {
      if (reduceTemplate.valid(p, k, gpu.info) !== true) continue;
      await expectKernelMatches(gpu, reduceTemplate, p, k, [x], ref.data);
      ran++;
    }
    expect(ran).toBeGreaterThan(4);
  });
});
