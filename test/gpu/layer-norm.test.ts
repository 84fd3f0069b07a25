// layer_norm kernel vs the interpreter: random ranks 1-4, axis anywhere (negative too), scale
// and bias of the full normalized shape or broadcast (trailing dims, size-1 dims), bias absent
// or present, random epsilon, inputs with a large common offset (two-pass variance), random knobs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { rowNormTemplate } from '../../codegen/kernels/row-norm.ts';
import type { RowNormProblem } from '../../codegen/problems.ts';
import { numel } from '../../src/ir/shape.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { loweredProblem } from '../helpers/lowered-problem.ts';
import { opReference, type Operand } from '../helpers/op-reference.ts';

const ctx = await gpuForTests();

/** A shape broadcastable to `norm`: a suffix of it with some dims set to 1. */
const paramShape = (norm: readonly number[], drop: number, ones: number): number[] =>
  norm.slice(Math.min(drop, norm.length - 1)).map((d, i) => ((ones >> i) & 1 ? 1 : d));

const normCaseArb = fc.record({
  shape: fc.array(awkwardSize(40), { minLength: 1, maxLength: 4 }).filter((s) => numel(s) <= 4000),
  axisPick: fc.nat(),
  negative: fc.boolean(),
  scaleDrop: fc.nat({ max: 3 }),
  scaleOnes: fc.nat({ max: 15 }),
  biasMode: fc.constantFrom('none', 'full', 'broadcast'),
  epsilon: fc.constantFrom(1e-5, 1e-3, 0.1),
  offset: fc.constantFrom(0, 50),
  knobIndex: fc.nat(),
  dataSeed: fc.nat(),
});

describe.skipIf(!ctx)('layer_norm on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, axes, params, epsilon and knobs', async () => {
    await fc.assert(fc.asyncProperty(normCaseArb, async (c) => {
      const a = c.axisPick % c.shape.length;
      const attrs = { axis: c.negative ? a - c.shape.length : a, epsilon: c.epsilon };
      const norm = c.shape.slice(a);
      const sShape = paramShape(norm, c.scaleDrop, c.scaleOnes);
      const bShape = c.biasMode === 'full' ? norm : paramShape(norm, c.scaleDrop + 1, c.scaleOnes >> 1);
      const x = randomData(numel(c.shape), c.dataSeed, c.offset - 2, c.offset + 2);
      const operands: Operand[] = [
        { shape: c.shape, data: x },
        { shape: sShape, data: randomData(numel(sShape), c.dataSeed + 1, -2, 2) },
        ...(c.biasMode === 'none' ? [] : [{ shape: bShape, data: randomData(numel(bShape), c.dataSeed + 2) }]),
      ];
      const p = loweredProblem<RowNormProblem>('layer_norm', operands, attrs);
      const ref = opReference('layer_norm', operands, attrs);
      const k = pickKnobs(rowNormTemplate, p, gpu.info, c.knobIndex);
      await expectKernelMatches(gpu, rowNormTemplate, p, k, operands.map((o) => o.data as Float32Array), ref.data);
    }), fcParams(20));
  });
});
