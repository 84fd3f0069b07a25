// conv2d-nbits (implicit GEMM) and conv2d-nbits-direct vs the interpreter's conv2d_nbits: conv-case.ts
// geometry (odd sizes, strides, pads, dilations, groups, depthwise) plus wider K; widths 1–8, both
// layouts, quant groups 32/128/per-channel/not dividing K, symmetric or fractional zeros, bias, epilogues,
// random valid knobs; each one's defaults; one small quantized conv graph through compile (lowering).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyKernelTemplate } from '../../codegen/kernel.ts';
import { conv2dNBitsDirectTemplate } from '../../codegen/kernels/conv2d-nbits-direct.ts';
import { conv2dNBitsLanesTemplate } from '../../codegen/kernels/conv2d-nbits-lanes.ts';
import { convLanesProblem } from '../../codegen/kernels/conv2d-lanes.ts';
import { conv2dNBitsTemplate } from '../../codegen/kernels/conv2d-nbits.ts';
import { templatesFor } from '../../codegen/kernels/index.ts';
import type { Conv2dNBitsProblem } from '../../codegen/problems.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { convOutSize } from '../../src/ir/ops/conv.ts';
import { ndarray, tensor, type NdArray } from '../../src/ir/tensor.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { groupsPerRow, packCodes, type PackedLayout, type QuantizedWeight } from '../../src/quant/format.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { uniformF32 } from '../../src/util/random.ts';
import { convCaseArb, type ConvCase } from '../helpers/conv-case.ts';
import { awkwardSize, epilogueArb, expectKernelMatches, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { fcParams } from '../prop/arbitraries.ts';

const ctx = await gpuForTests();

interface QCase {
  readonly conv: ConvCase;
  readonly bits: number;
  /** 'k' = per-channel (group = K); 'odd' = a size that does not divide K. */
  readonly quantGroup: 32 | 128 | 'k' | 'odd';
  readonly layout: PackedLayout;
  readonly symmetric: boolean;
}

// Wider channels than conv-case draws (K up to 16 * 9 = 144), so groups of 32 split rows.
const wideConvArb: fc.Arbitrary<ConvCase> = fc.record({
  C: fc.integer({ min: 3, max: 16 }), M: awkwardSize(13), H: awkwardSize(9), W: awkwardSize(9), k: fc.constantFrom(1, 3),
  stride: fc.integer({ min: 1, max: 2 }), pad: fc.nat(1), bias: fc.boolean(), epilogue: epilogueArb, knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((r) => {
  const OH = convOutSize(r.H, r.k, r.stride, r.pad, r.pad, 1);
  const OW = convOutSize(r.W, r.k, r.stride, r.pad, r.pad, 1);
  return {
    problem: { kind: 'conv2d', N: 1, C: r.C, H: r.H, W: r.W, M: r.M, kH: r.k, kW: r.k, OH, OW, strides: [r.stride, r.stride], pads: [r.pad, r.pad], dilations: [1, 1], group: 1, bias: r.bias, epilogue: r.epilogue },
    pads4: [r.pad, r.pad, r.pad, r.pad], knobIndex: r.knobIndex, dataSeed: r.dataSeed,
  } satisfies ConvCase;
}).filter((c) => c.problem.OH >= 1 && c.problem.OW >= 1);

const qCaseArb: fc.Arbitrary<QCase> = fc.record({
  conv: fc.oneof(convCaseArb, wideConvArb),
  bits: fc.integer({ min: 1, max: 8 }),
  quantGroup: fc.constantFrom<QCase['quantGroup']>(32, 128, 'k', 'odd'),
  layout: fc.constantFrom<PackedLayout>('dense', 'planes'),
  symmetric: fc.boolean(),
});

const kOf = (p: Conv2dNBitsProblem | ConvCase['problem']): number => (p.C / p.group) * p.kH * p.kW;

function problemOf(c: QCase): Conv2dNBitsProblem {
  const K = kOf(c.conv.problem);
  // The quantizer clamps groups >= K to K (per-channel); 'odd' leaves a shorter last group when K > 1.
  const want = c.quantGroup === 'k' ? K : c.quantGroup === 'odd' ? Math.max(1, Math.ceil(K / 2) + (K % 2 ? 0 : 1)) : c.quantGroup;
  return { ...c.conv.problem, kind: 'conv2d-nbits', bits: c.bits, quantGroup: Math.min(want, K), layout: c.layout };
}

/** Random codes, scales in [0.01, 0.1], zeros 2^(b-1) (symmetric) or random (possibly fractional) in [0, 2^b - 1]. */
function weightOf(p: Conv2dNBitsProblem, symmetric: boolean, seed: number): QuantizedWeight {
  const rand = mulberry32(seed);
  const K = kOf(p);
  const G = groupsPerRow(K, p.quantGroup);
  const codes = Array.from({ length: p.M * K }, () => Math.floor(rand() * 2 ** p.bits));
  const scales = Float32Array.from({ length: p.M * G }, () => 0.01 + 0.09 * rand());
  const zeros = Float32Array.from({ length: p.M * G }, () => (symmetric ? 2 ** (p.bits - 1) : rand() * (2 ** p.bits - 1)));
  return { N: p.M, K, bits: p.bits, group: p.quantGroup, layout: p.layout, words: packCodes(codes, p.M, K, p.bits, p.layout), scales, zeros };
}

/** epilogue(conv2d_nbits(X, W) + bias) through the interpreter (the op table's semantics). */
function reference(c: QCase, p: Conv2dNBitsProblem, x: Float32Array, w: QuantizedWeight, bias: Float32Array | null): Float64Array {
  const g = new GraphBuilder('qconv');
  const xShape = [p.N, p.C, p.H, p.W];
  const args = [g.input('X', 'f32', xShape),
    g.initializer('words', tensor('u32', [w.words.length], w.words)),
    g.initializer('scales', tensor('f32', [p.M, w.scales.length / p.M], w.scales)),
    g.initializer('zeros', tensor('f32', [p.M, w.zeros.length / p.M], w.zeros))];
  if (bias) args.push(g.initializer('B', tensor('f32', [p.M], bias)));
  let y = g.op('conv2d_nbits', args, {
    strides: [...p.strides], pads: [...c.conv.pads4], dilations: [...p.dilations], groups: p.group, kernel_shape: [p.kH, p.kW],
    N: p.M, K: w.K, bits: p.bits, group: p.quantGroup, layout: p.layout,
  });
  for (const e of p.epilogue) y = g.op(e.op, [y], e.attrs);
  g.output(y);
  return (interpret(g.build(), { X: ndarray(xShape, x) }).get(y) as NdArray).data;
}

async function check(gpu: NonNullable<typeof ctx>, template: AnyKernelTemplate, c: QCase, knobs?: unknown): Promise<void> {
  const p = problemOf(c);
  const k = knobs ?? pickKnobs(template, p, gpu.info, c.conv.knobIndex);
  const seed = c.conv.dataSeed;
  const w = weightOf(p, c.symmetric, seed);
  const x = randomData(p.N * p.C * p.H * p.W, seed + 1);
  const bias = p.bias ? randomData(p.M, seed + 2) : null;
  // runKernel takes Float32Arrays: a view over the words keeps their bits.
  const inputs = [x, new Float32Array(w.words.buffer), w.scales, w.zeros, ...(bias ? [bias] : [])];
  await expectKernelMatches(gpu, template, p, k as never, inputs, reference(c, p, x, w, bias));
}

// The lanes template leaves tiny and depthwise-like convs to the others: its cases are those it serves.
const serves = (template: AnyKernelTemplate, c: QCase): boolean => template !== conv2dNBitsLanesTemplate || convLanesProblem(problemOf(c)) === undefined;

for (const template of [conv2dNBitsTemplate, conv2dNBitsDirectTemplate, conv2dNBitsLanesTemplate] as AnyKernelTemplate[]) describe.skipIf(!ctx)(`${template.name} on the GPU`, () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random convs, widths, groups, layouts and knobs', async () => {
    await fc.assert(fc.asyncProperty(qCaseArb.filter((c) => serves(template, c)), (c) => check(gpu, template, c)), fcParams(16));
  });

  it('defaults are valid and correct (3x3 K = 468 with group 128, pointwise, strided, depthwise)', async () => {
    const base = { kind: 'conv2d', N: 1, bias: true, epilogue: [{ op: 'relu', attrs: {} }], dilations: [1, 1] } as const;
    const cases: [ConvCase['problem'], number, QCase['quantGroup'], PackedLayout][] = [
      [{ ...base, C: 52, H: 6, W: 7, M: 5, kH: 3, kW: 3, OH: 6, OW: 7, strides: [1, 1], pads: [1, 1], group: 1 }, 4, 128, 'dense'],
      [{ ...base, C: 12, H: 9, W: 9, M: 8, kH: 1, kW: 1, OH: 9, OW: 9, strides: [1, 1], pads: [0, 0], group: 1 }, 3, 'k', 'dense'],
      [{ ...base, C: 3, H: 20, W: 19, M: 12, kH: 3, kW: 3, OH: 10, OW: 10, strides: [2, 2], pads: [1, 1], group: 1 }, 8, 'odd', 'planes'],
      [{ ...base, C: 8, H: 13, W: 13, M: 8, kH: 3, kW: 3, OH: 13, OW: 13, strides: [1, 1], pads: [1, 1], group: 8 }, 2, 'k', 'dense'],
    ];
    for (const [i, [conv, bits, quantGroup, layout]] of cases.entries()) {
      const c: QCase = { conv: { problem: conv, pads4: [conv.pads[0], conv.pads[1], conv.pads[0], conv.pads[1]], knobIndex: 0, dataSeed: 100 + i }, bits, quantGroup, layout, symmetric: i % 2 === 0 };
      if (!serves(template, c)) continue;
      const p = problemOf(c);
      const k = template.defaults(p, gpu.info);
      expect(template.valid(p, k, gpu.info)).toBe(true);
      await check(gpu, template, c, k);
    }
  });
});

describe.skipIf(!ctx)('quantized conv graph compiled end to end', () => {
  it('lowers conv2d_nbits with groups, stride, asymmetric pads, dilation and a fused epilogue', async () => {
    const gpu = ctx as NonNullable<typeof ctx>;
    const rand = mulberry32(9);
    const b = new GraphBuilder('qconvs');
    const x = b.input('x', 'f32', [2, 6, 11, 10]);
    const w = (name: string, shape: number[]) => b.initializer(name, tensor('f32', shape, uniformF32(shape.reduce((s, d) => s * d, 1), rand)));
    const h = b.op('conv2d', [x, w('w0', [4, 3, 3, 2]), w('b0', [4])], { group: 2, strides: [2, 1], pads: [2, 0, 1, 1], dilations: [1, 2] }, { name: 'g2' });
    const y = b.op('conv2d', [b.op('hardswish', [h]), w('w1', [5, 4, 1, 1])], {}, { name: 'pw' });
    b.output(b.op('clip', [y], { min: -0.5, max: 0.5 }));
    const r = await compileGraph(b.build(), { ctx: gpu, verifyPasses: true, quantize: { bits: 3, convBits: 3, group: 5, keepEnds: false } });
    expect(r.lowered.kernels.map((k) => `${k.problem.kind}:${k.nodes.length}`)).toEqual(['conv2d-nbits:2', 'conv2d-nbits:2']);
    const input = uniformF32(2 * 6 * 11 * 10, rand);
    const ex = await Executor.create(gpu, r.bundle);
    try {
      const got = (await ex.run(new Map([['x', input]]))).outputs.get(r.graph.outputs[0] as string) as Float32Array;
      const want = interpret(r.graph, { x: ndarray([2, 6, 11, 10], input) }).get(r.graph.outputs[0] as string);
      expect(compareOutputs(got, want?.data ?? [])).toBeNull();
    } finally {
      ex.destroy();
    }
  });
});

describe('conv2d-nbits registry', () => {
  it('serves the conv2d-nbits kind and rejects bad widths and channel splits with reasons', () => {
    const p: Conv2dNBitsProblem = {
      kind: 'conv2d-nbits', N: 1, C: 8, H: 5, W: 5, M: 4, kH: 3, kW: 3, OH: 3, OW: 3, strides: [1, 1], pads: [0, 0], dilations: [1, 1],
      group: 1, bias: false, epilogue: [], bits: 4, quantGroup: 32, layout: 'dense',
    };
    const dev = { features: new Set<string>(), limits: { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27 } };
    expect(templatesFor(p).map((t) => t.name)).toEqual(['conv2d-nbits-direct', 'conv2d-nbits-lanes', 'conv2d-nbits']);
    const k = conv2dNBitsTemplate.defaults(p, dev);
    expect(conv2dNBitsTemplate.valid(p, k, dev)).toBe(true);
    expect(conv2dNBitsTemplate.valid({ ...p, bits: 9 }, k, dev)).toMatch(/1\.\.8 bits/);
    expect(conv2dNBitsTemplate.valid({ ...p, group: 3 }, k, dev)).toMatch(/not divisible by group 3/);
    // Width, quant group and layout are baked into the WGSL, so they are in the key.
    const keys = new Set([p, { ...p, bits: 3 }, { ...p, quantGroup: 8 }, { ...p, layout: 'planes' as const }].map((q) => conv2dNBitsTemplate.key(q)));
    expect(keys.size).toBe(4);
  });
});
