// transpose vs the interpreter: random ranks 1-5, awkward dims, random permutations (including
// identity and ones that merge into fewer dims), both the gather and the tiled paths.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transposeTemplate } from '../../codegen/kernels/transpose.ts';
import type { TransposeProblem } from '../../codegen/problems.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { numel } from '../../src/ir/shape.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { awkwardSize, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

const shapeArb = fc.oneof(
  fc.array(awkwardSize(12), { minLength: 1, maxLength: 5 }),
  fc.tuple(awkwardSize(70), awkwardSize(70)).map(([a, b]) => [a, b]),
  fc.tuple(awkwardSize(4), awkwardSize(40), awkwardSize(40)).map(([a, b, c]) => [a, b, c]),
).filter((s) => numel(s) <= 6000);

const caseArb = fc.record({ inShape: shapeArb, keys: fc.array(fc.double({ noNaN: true }), { minLength: 5, maxLength: 5 }), knobIndex: fc.nat(), dataSeed: fc.nat() })
  .map(({ inShape, keys, knobIndex, dataSeed }) => {
    const perm = inShape.map((_, i) => i).sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
    return { problem: { kind: 'transpose', inShape, perm } as TransposeProblem, knobIndex, dataSeed };
  });

function reference(p: TransposeProblem, x: Float32Array): Float64Array {
  const g = new GraphBuilder('tr');
  const y = g.op('transpose', [g.input('X', 'f32', p.inShape)], { perm: [...p.perm] });
  g.output(y);
  return (interpret(g.build(), { X: ndarray(p.inShape, x) }).get(y) as NdArray).data;
}

describe.skipIf(!ctx)('transpose on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, permutations and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ problem, knobIndex, dataSeed }) => {
      const x = randomData(numel(problem.inShape), dataSeed);
      await expectKernelMatches(gpu, transposeTemplate, problem, pickKnobs(transposeTemplate, problem, gpu.info, knobIndex), [x], reference(problem, x));
    }), fcParams(40));
  });

  it('tiled path on tile-edge shapes; defaults pick it when the innermost dim moves within a 16x16+ plane', async () => {
    // [5,7,9,2]: the innermost dim moves but the plane is 2 wide (depth_to_space-like): gather.
    for (const [inShape, perm, tiled] of [[[33, 17], [1, 0], true], [[3, 65, 31], [0, 2, 1], true], [[5, 7, 9, 2], [3, 1, 0, 2], false], [[4, 4, 5], [1, 0, 2], false]] as const) {
      const p: TransposeProblem = { kind: 'transpose', inShape, perm };
      const x = randomData(numel(inShape), 5);
      const k = transposeTemplate.defaults(p, gpu.info);
      expect(transposeTemplate.valid(p, k, gpu.info)).toBe(true);
      expect(k.tile > 0).toBe(tiled);
      await expectKernelMatches(gpu, transposeTemplate, p, k, [x], reference(p, x));
      for (const tile of [8, 16, 32]) {
        const kt = { tile, workgroupSize: tile === 8 ? 64 : 128 };
        if (transposeTemplate.valid(p, kt, gpu.info) === true) await expectKernelMatches(gpu, transposeTemplate, p, kt, [x], reference(p, x));
      }
    }
  });
});
