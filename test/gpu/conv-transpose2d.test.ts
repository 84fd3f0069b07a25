// conv_transpose2d lowered to the conv-transpose2d kernel vs the interpreter (whose reference
// is the scatter form): groups, strides, pads, dilations, output_padding, bias, epilogue, knobs.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Attrs } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { awkwardSize, fcParams, gpuForTests } from '../helpers/kernel-check.ts';
import { expectNodeMatches } from '../helpers/node-check.ts';

const ctx = await gpuForTests();

const pair = (min: number, max: number): fc.Arbitrary<[number, number]> => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }), group: fc.constantFrom(1, 1, 2, 3), cg: awkwardSize(4), mg: awkwardSize(4),
  h: awkwardSize(9), w: awkwardSize(9), k: pair(1, 4), s: pair(1, 3), d: pair(1, 2), padSeed: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  opSeed: pair(0, 2), bias: fc.boolean(), knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((c) => {
  const C = c.cg * c.group;
  const pads = c.padSeed.map((v, i) => v % (c.k[i % 2] as number));
  const outPad = c.opSeed.map((v, a) => v % Math.max(c.s[a] as number, c.d[a] as number));
  const attrs: Attrs = { strides: c.s, dilations: c.d, pads, group: c.group, output_padding: outPad };
  const shapes = [[c.n, C, c.h, c.w], [C, c.mg, c.k[0], c.k[1]], ...(c.bias ? [[c.mg * c.group]] : [])];
  return { attrs, shapes, knobIndex: c.knobIndex, dataSeed: c.dataSeed };
}).filter((c) => typeof getOp('conv_transpose2d')?.infer(c.shapes.map((s) => ({ dtype: 'f32', shape: s })), c.attrs) !== 'string');

describe.skipIf(!ctx)('conv_transpose2d on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random shapes, groups, strides, pads and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      await expectNodeMatches(gpu, { op: 'conv_transpose2d', inputShapes: c.shapes, attrs: c.attrs, knobIndex: c.knobIndex, dataSeed: c.dataSeed });
    }), fcParams(20));
  });
});
