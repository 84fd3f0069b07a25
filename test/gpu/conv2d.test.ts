// Both conv2d templates (direct, implicit-GEMM) vs the interpreter: random groups (incl.
// depthwise), strides, asymmetric pads, dilations, bias and epilogues with random valid knobs;
// plus each template's defaults. Problems come from test/helpers/conv-case.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyKernelTemplate } from '../../codegen/kernel.ts';
import { conv2dDirectTemplate } from '../../codegen/kernels/conv2d-direct.ts';
import { conv2dImplicitGemmTemplate } from '../../codegen/kernels/conv2d-implicit-gemm.ts';
import { convCaseArb, convInputs, convReference, type ConvCase } from '../helpers/conv-case.ts';
import { expectKernelMatches, fcParams, gpuForTests, pickKnobs } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

for (const template of [conv2dDirectTemplate, conv2dImplicitGemmTemplate] as AnyKernelTemplate[]) describe.skipIf(!ctx)(`${template.name} on the GPU`, () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(convCaseArb, async (c) => {
      const k = pickKnobs(template, c.problem, gpu.info, c.knobIndex);
      const inputs = convInputs(c);
      await expectKernelMatches(gpu, template, c.problem, k, inputs, convReference(c, inputs));
    }), fcParams(30));
  });

  it('defaults are valid and correct (pointwise, 3x3 strided, depthwise)', async () => {
    const base = { kind: 'conv2d', N: 1, bias: true, epilogue: [{ op: 'relu', attrs: {} }], dilations: [1, 1] } as const;
    const cases: ConvCase[] = [
      { problem: { ...base, C: 12, H: 9, W: 9, M: 8, kH: 1, kW: 1, OH: 9, OW: 9, strides: [1, 1], pads: [0, 0], group: 1 }, pads4: [0, 0, 0, 0], knobIndex: 0, dataSeed: 1 },
      { problem: { ...base, C: 3, H: 20, W: 19, M: 12, kH: 3, kW: 3, OH: 10, OW: 10, strides: [2, 2], pads: [1, 1], group: 1 }, pads4: [1, 1, 1, 1], knobIndex: 0, dataSeed: 2 },
      { problem: { ...base, C: 8, H: 13, W: 13, M: 8, kH: 3, kW: 3, OH: 13, OW: 13, strides: [1, 1], pads: [1, 1], group: 8 }, pads4: [1, 1, 1, 1], knobIndex: 0, dataSeed: 3 },
    ];
    for (const c of cases) {
      const k = template.defaults(c.problem, gpu.info);
      expect(template.valid(c.problem, k, gpu.info)).toBe(true);
      const inputs = convInputs(c);
      await expectKernelMatches(gpu, template, c.problem, k, inputs, convReference(c, inputs));
    }
  });
});
