// Random pooling cases for the max/avg pool GPU tests: awkward NCHW shapes, kernel 1..4,
// stride 1..3, dilation 1..2, pads below the window extent, ceil_mode, count_include_pad.
// Cases whose output would be empty are filtered out via the op's own inference.

import fc from 'fast-check';
import type { Attrs } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { awkwardSize } from './kernel-check.ts';

export interface PoolCase {
  readonly inputShapes: readonly (readonly number[])[];
  readonly attrs: Attrs;
  readonly knobIndex: number;
  readonly dataSeed: number;
}

export function poolCaseArb(avg: boolean): fc.Arbitrary<PoolCase> {
  const pair = (max: number): fc.Arbitrary<[number, number]> => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));
  return fc.record({
    n: fc.integer({ min: 1, max: 2 }), c: awkwardSize(5), h: awkwardSize(17), w: awkwardSize(17),
    k: pair(4), s: pair(3), d: pair(2), padSeed: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    ceil: fc.boolean(), incl: fc.boolean(), knobIndex: fc.nat(), dataSeed: fc.nat(),
  }).map((r) => {
    const ext = [(r.k[0] - 1) * r.d[0] + 1, (r.k[1] - 1) * r.d[1] + 1];
    const pads = r.padSeed.map((v, i) => v % (ext[i % 2] as number));
    const attrs: Attrs = {
      kernel_shape: r.k, strides: r.s, dilations: r.d, pads, ceil_mode: r.ceil ? 1 : 0,
      ...(avg ? { count_include_pad: r.incl ? 1 : 0 } : {}),
    };
    return { inputShapes: [[r.n, r.c, r.h, r.w]], attrs, knobIndex: r.knobIndex, dataSeed: r.dataSeed };
  }).filter((c) => typeof getOp(avg ? 'avg_pool2d' : 'max_pool2d')?.infer([{ dtype: 'f32', shape: c.inputShapes[0] as number[] }], c.attrs) !== 'string');
}
