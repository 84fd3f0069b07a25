// conv2d-lanes vs the interpreter on the problems it serves (>= 4 output channels per group, >= 16
// output pixels): random groups, strides, asymmetric pads, dilations, bias, epilogues and random valid
// knobs, with pointwise convs on pixel counts that are multiples of 4 often enough to draw vec4 knobs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dLanesTemplate } from '../../codegen/kernels/conv2d-lanes.ts';
import type { Conv2dProblem, Epilogue } from '../../codegen/problems.ts';
import { convOutSize } from '../../src/ir/ops/conv.ts';
import { convInputs, convReference, type ConvCase } from '../helpers/conv-case.ts';
import { awkwardSize, epilogueArb, expectKernelMatches, fcParams, gpuForTests, pickKnobs } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

const geometryArb = fc.oneof(
  // pointwise: 1x1, stride 1, no padding (the vec4 path when OH*OW % 4 == 0)
  fc.record({ H: awkwardSize(12, [4, 8]), W: fc.constantFrom(4, 8, 12, 5, 7, 16), k: fc.constant([1, 1] as const), strides: fc.constant([1, 1] as const), dilations: fc.constant([1, 1] as const), pads: fc.constant([0, 0, 0, 0] as const) }),
  fc.record({
    H: awkwardSize(16), W: awkwardSize(16),
    k: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
  }),
);

const caseArb: fc.Arbitrary<ConvCase> = fc.record({
  N: fc.integer({ min: 1, max: 2 }), group: fc.integer({ min: 1, max: 2 }), Cg: awkwardSize(9), Mg: fc.integer({ min: 4, max: 13 }),
  geo: geometryArb, bias: fc.boolean(), epilogue: epilogueArb, knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((r) => {
  const { H, W, k, strides, dilations, pads } = r.geo;
  const OH = convOutSize(H, k[0], strides[0], pads[0], pads[2], dilations[0]);
  const OW = convOutSize(W, k[1], strides[1], pads[1], pads[3], dilations[1]);
  const problem: Conv2dProblem = {
    kind: 'conv2d', N: r.N, C: r.group * r.Cg, H, W, M: r.group * r.Mg, kH: k[0], kW: k[1], OH, OW,
    strides: [strides[0], strides[1]], pads: [pads[0], pads[1]], dilations: [dilations[0], dilations[1]], group: r.group,
    bias: r.bias, epilogue: r.epilogue as Epilogue,
  };
  return { problem, pads4: [pads[0], pads[1], pads[2], pads[3]] as const, knobIndex: r.knobIndex, dataSeed: r.dataSeed };
}).filter((c) => c.problem.OH >= 1 && c.problem.OW >= 1 && c.problem.OH * c.problem.OW >= 16);

describe.skipIf(!ctx)('conv2d-lanes on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;
  const t = conv2dLanesTemplate;

  it('matches the interpreter for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const k = pickKnobs(t, c.problem, gpu.info, c.knobIndex);
      const inputs = convInputs(c);
      await expectKernelMatches(gpu, t, c.problem, k, inputs, convReference(c, inputs));
    }), fcParams(16));
  });

  it('defaults are valid and correct (pointwise vec4, pointwise odd, 3x3 strided)', async () => {
    const base = { kind: 'conv2d', N: 1, bias: true, epilogue: [{ op: 'hardswish', attrs: {} }], dilations: [1, 1] } as const;
    const cases: ConvCase[] = [
      { problem: { ...base, C: 12, H: 6, W: 8, M: 20, kH: 1, kW: 1, OH: 6, OW: 8, strides: [1, 1], pads: [0, 0], group: 1 }, pads4: [0, 0, 0, 0], knobIndex: 0, dataSeed: 1 },
      { problem: { ...base, C: 7, H: 5, W: 7, M: 9, kH: 1, kW: 1, OH: 5, OW: 7, strides: [1, 1], pads: [0, 0], group: 1 }, pads4: [0, 0, 0, 0], knobIndex: 0, dataSeed: 2 },
      { problem: { ...base, C: 3, H: 20, W: 19, M: 12, kH: 3, kW: 3, OH: 10, OW: 10, strides: [2, 2], pads: [1, 1], group: 1 }, pads4: [1, 1, 1, 1], knobIndex: 0, dataSeed: 3 },
    ];
    for (const c of cases) {
      const k = t.defaults(c.problem, gpu.info);
      expect(t.valid(c.problem, k, gpu.info)).toBe(true);
      const inputs = convInputs(c);
      await expectKernelMatches(gpu, t, c.problem, k, inputs, convReference(c, inputs));
    }
  });

  it('leaves depthwise and tiny-image convs to conv2d-direct', () => {
    const p: Conv2dProblem = { kind: 'conv2d', N: 1, C: 8, H: 9, W: 9, M: 8, kH: 3, kW: 3, OH: 9, OW: 9, strides: [1, 1], pads: [1, 1], dilations: [1, 1], group: 8, bias: false, epilogue: [] };
    expect(t.valid(p, t.defaults(p, gpu.info), gpu.info)).toMatch(/channels per group/);
    const tiny: Conv2dProblem = { ...p, group: 1, H: 3, W: 3, OH: 3, OW: 3 };
    expect(t.valid(tiny, t.defaults(tiny, gpu.info), gpu.info)).toMatch(/pixels/);
  });
});
