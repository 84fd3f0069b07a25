// gather with constant i32 indices vs the interpreter: random data ranks 1-4, any axis
// (negative too), index tensors of rank 0-2 with negative (wrapping) and repeated indices,
// random knobs. Runtime indices and out-of-range constants must fail lowering clearly.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatherTemplate } from '../../codegen/kernels/gather.ts';
import type { GatherProblem } from '../../codegen/problems.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { numel } from '../../src/ir/shape.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { loweredProblem } from '../helpers/lowered-problem.ts';
import { opReference, type Operand } from '../helpers/op-reference.ts';

const ctx = await gpuForTests();

const caseArb = fc.record({
  shape: fc.array(awkwardSize(24), { minLength: 1, maxLength: 4 }).filter((s) => numel(s) <= 4000),
  axisPick: fc.nat(),
  negative: fc.boolean(),
  indexShape: fc.array(awkwardSize(9), { minLength: 0, maxLength: 2 }),
  indexKeys: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 81, maxLength: 81 }),
  knobIndex: fc.nat(),
  dataSeed: fc.nat(),
});

describe.skipIf(!ctx)('gather on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, axes, index tensors and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const a = c.axisPick % c.shape.length;
      const len = c.shape[a] as number;
      // Keys fold into [-len, len): both index signs, repeats likely.
      const ids = Int32Array.from({ length: numel(c.indexShape) }, (_, i) => (((c.indexKeys[i] as number) % (2 * len)) + 2 * len) % (2 * len) - len);
      const attrs = { axis: c.negative ? a - c.shape.length : a };
      const x = randomData(numel(c.shape), c.dataSeed);
      const operands: Operand[] = [{ shape: c.shape, data: x }, { shape: c.indexShape, data: ids, dtype: 'i32', constant: true }];
      const p = loweredProblem<GatherProblem>('gather', operands, attrs);
      const ref = opReference('gather', operands, attrs);
      await expectKernelMatches(gpu, gatherTemplate, p, pickKnobs(gatherTemplate, p, gpu.info, c.knobIndex), [x], ref.data);
    }), fcParams(30));
  });

  it('rejects runtime indices and out-of-range constants with one-line errors naming the node', () => {
    const runtime = new GraphBuilder('g');
    runtime.output(runtime.op('gather', [runtime.input('x', 'f32', [4, 3]), runtime.input('ids', 'i32', [2])], {}, { name: 'emb' }));
    expect(() => lowerGraph(runtime.build())).toThrow(/^node 'emb' \(gather\): indices 'ids' must be a constant initializer/);
    const bad = new GraphBuilder('g');
    bad.initializer('ids', tensor('i32', [2], Int32Array.from([1, 4])));
    bad.output(bad.op('gather', [bad.input('x', 'f32', [4, 3]), 'ids'], {}, { name: 'emb' }));
    expect(() => lowerGraph(bad.build())).toThrow("node 'emb' (gather): gather index 4 is out of range [-4, 4)");
  });
});
