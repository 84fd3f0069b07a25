// conv2d-depthwise vs the interpreter: random depthwise problems (group = C = M) with strides,
// asymmetric pads, dilations, bias, epilogues and random valid knobs (column blocks past the row end,
// lanes past the plane end); its defaults on PP-OCR-like shapes; and what it leaves to other templates.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dDepthwiseTemplate } from '../../codegen/kernels/conv2d-depthwise.ts';
import type { Conv2dProblem, Epilogue } from '../../codegen/problems.ts';
import { convOutSize } from '../../src/ir/ops/conv.ts';
import { convInputs, convReference, type ConvCase } from '../helpers/conv-case.ts';
import { awkwardSize, epilogueArb, expectKernelMatches, fcParams, gpuForTests, pickKnobs } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

const caseArb: fc.Arbitrary<ConvCase> = fc.record({
  N: fc.integer({ min: 1, max: 2 }), C: awkwardSize(9),
  H: awkwardSize(20), W: awkwardSize(20),
  k: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
  bias: fc.boolean(), epilogue: epilogueArb, knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((r) => {
  const OH = convOutSize(r.H, r.k[0], r.strides[0], r.pads[0], r.pads[2], r.dilations[0]);
  const OW = convOutSize(r.W, r.k[1], r.strides[1], r.pads[1], r.pads[3], r.dilations[1]);
  const problem: Conv2dProblem = {
    kind: 'conv2d', N: r.N, C: r.C, H: r.H, W: r.W, M: r.C, kH: r.k[0], kW: r.k[1], OH, OW,
    strides: r.strides, pads: [r.pads[0], r.pads[1]], dilations: r.dilations, group: r.C, bias: r.bias, epilogue: r.epilogue as Epilogue,
  };
  return { problem, pads4: r.pads, knobIndex: r.knobIndex, dataSeed: r.dataSeed };
}).filter((c) => c.problem.OH >= 1 && c.problem.OW >= 1);

describe.skipIf(!ctx)('conv2d-depthwise on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;
  const t = conv2dDepthwiseTemplate;

  it('matches the interpreter for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const k = pickKnobs(t, c.problem, gpu.info, c.knobIndex);
      const inputs = convInputs(c);
      await expectKernelMatches(gpu, t, c.problem, k, inputs, convReference(c, inputs));
    }), fcParams(30));
  });

  it('defaults are valid and correct (5x5 same, 3x3 stride 2, 1x1)', async () => {
    const base = { kind: 'conv2d', N: 1, bias: true, epilogue: [{ op: 'hardswish', attrs: {} }], dilations: [1, 1] } as const;
    const cases: ConvCase[] = [
      { problem: { ...base, C: 6, H: 7, W: 40, M: 6, kH: 5, kW: 5, OH: 7, OW: 40, strides: [1, 1], pads: [2, 2], group: 6 }, pads4: [2, 2, 2, 2], knobIndex: 0, dataSeed: 1 },
      { problem: { ...base, C: 5, H: 13, W: 17, M: 5, kH: 3, kW: 3, OH: 7, OW: 9, strides: [2, 2], pads: [1, 1], group: 5 }, pads4: [1, 1, 1, 1], knobIndex: 0, dataSeed: 2 },
      { problem: { ...base, C: 3, H: 1, W: 1, M: 3, kH: 1, kW: 1, OH: 1, OW: 1, strides: [1, 1], pads: [0, 0], group: 3 }, pads4: [0, 0, 0, 0], knobIndex: 0, dataSeed: 3 },
    ];
    for (const c of cases) {
      const k = t.defaults(c.problem, gpu.info);
      expect(t.valid(c.problem, k, gpu.info)).toBe(true);
      const inputs = convInputs(c);
      await expectKernelMatches(gpu, t, c.problem, k, inputs, convReference(c, inputs));
    }
  });

  it('rejects grouped convs that are not depthwise with multiplier 1', () => {
    const p: Conv2dProblem = { kind: 'conv2d', N: 1, C: 8, H: 9, W: 9, M: 16, kH: 3, kW: 3, OH: 9, OW: 9, strides: [1, 1], pads: [1, 1], dilations: [1, 1], group: 8, bias: false, epilogue: [] };
    expect(t.valid(p, t.defaults(p, gpu.info), gpu.info)).toMatch(/depthwise/);
  });
});
