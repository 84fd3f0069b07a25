// matmul-nbits-gemv and matmul-nbits-gemm vs a float64 reference built from dequantize():
// random widths 1–8, both packed layouts, group sizes (aligned, unaligned, a short last group,
// per-channel group = K), odd K and N, symmetric/random zeros, bias, epilogues and random knobs.
// The epilogue's reference runs through the interpreter, so its semantics are the op table's.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyKernelTemplate } from '../../codegen/kernel.ts';
import { NBITS_GEMV_MAX_ROWS, matmulNBitsGemvTemplate } from '../../codegen/kernels/matmul-nbits-gemv.ts';
import { matmulNBitsGemmTemplate } from '../../codegen/kernels/matmul-nbits-gemm.ts';
import { matmulNBitsLanesTemplate } from '../../codegen/kernels/matmul-nbits-lanes.ts';
import { templatesFor } from '../../codegen/kernels/index.ts';
import type { Epilogue, MatmulNBitsProblem } from '../../codegen/problems.ts';
import { groupsPerRow, packCodes, type PackedLayout, type QuantizedWeight } from '../../src/quant/format.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { epilogueArb, weightOnlyReference, expectKernelMatches, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { fcParams } from '../prop/arbitraries.ts';

const ctx = await gpuForTests();

interface Case {
  M: number;
  N: number;
  K: number;
  bits: number;
  /** 0 means per-channel (group = K). */
  group: number;
  layout: PackedLayout;
  symmetric: boolean;
  bias: boolean;
  epilogue: Epilogue;
  knobIndex: number;
  seed: number;
}

const caseArb = (Ms: readonly number[], layouts: readonly PackedLayout[]): fc.Arbitrary<Case> => fc.record({
  M: fc.constantFrom(...Ms),
  N: fc.oneof(fc.constantFrom(1, 3, 7, 13, 33, 65), fc.integer({ min: 1, max: 70 })),
  K: fc.oneof(fc.constantFrom(1, 31, 32, 33, 95, 257, 468), fc.integer({ min: 1, max: 600 })),
  bits: fc.integer({ min: 1, max: 8 }),
  group: fc.constantFrom(0, 32, 64, 128, 48, 100, 7),
  layout: fc.constantFrom(...layouts),
  symmetric: fc.boolean(),
  bias: fc.boolean(),
  epilogue: epilogueArb,
  knobIndex: fc.nat(),
  seed: fc.nat(),
});

function problemOf(c: Case): MatmulNBitsProblem {
  return { kind: 'matmul-nbits', M: c.M, N: c.N, K: c.K, bits: c.bits, group: c.group || c.K, layout: c.layout, bias: c.bias, epilogue: c.epilogue };
}

/** Random codes, scales in [0.01, 0.1], zeros 2^(b-1) (symmetric) or random in [0, 2^b - 1]. */
function weightOf(c: Case): QuantizedWeight {
  const rand = mulberry32(c.seed);
  const group = c.group || c.K;
  const G = groupsPerRow(c.K, group);
  const codes = Array.from({ length: c.N * c.K }, () => Math.floor(rand() * 2 ** c.bits));
  const scales = Float32Array.from({ length: c.N * G }, () => 0.01 + 0.09 * rand());
  const zeros = Float32Array.from({ length: c.N * G }, () => (c.symmetric ? 2 ** (c.bits - 1) : Math.round(rand() * (2 ** c.bits - 1))));
  return { N: c.N, K: c.K, bits: c.bits, group, layout: c.layout, words: packCodes(codes, c.N, c.K, c.bits, c.layout), scales, zeros };
}

async function check(gpu: NonNullable<typeof ctx>, template: AnyKernelTemplate, c: Case, knobs?: unknown): Promise<void> {
  const p = problemOf(c);
  const k = knobs ?? pickKnobs(template, p, gpu.info, c.knobIndex);
  const w = weightOf(c);
  const a = randomData(c.M * c.K, c.seed + 1);
  const bias = c.bias ? randomData(c.N, c.seed + 2) : null;
  // runKernel takes Float32Arrays: a view over the words keeps their bits.
  const inputs = [a, new Float32Array(w.words.buffer), w.scales, w.zeros, ...(bias ? [bias] : [])];
  await expectKernelMatches(gpu, template, p, k as never, inputs, weightOnlyReference(c.M, a, w, bias, c.epilogue));
}

// Run counts fit the file in well under a minute on a loaded lavapipe (~1 s of LLVM per shader).
const SUITES: [AnyKernelTemplate, number[], PackedLayout[], number, number, [number, PackedLayout][]][] = [
  [matmulNBitsGemvTemplate, [1, 3, 8], ['dense', 'planes'], 14, 1, [...[1, 2, 3, 4, 5, 6, 7, 8].map((b): [number, PackedLayout] => [b, 'dense']), [1, 'planes'], [3, 'planes'], [5, 'planes'], [8, 'planes']]],
  [matmulNBitsGemmTemplate, [1, 3, 8, 17, 33], ['dense', 'planes'], 8, 17, [[1, 'planes'], [3, 'dense'], [6, 'dense'], [8, 'planes']]],
  [matmulNBitsLanesTemplate, [1, 3, 8, 17, 33], ['dense', 'planes'], 10, 17, [[1, 'planes'], [3, 'dense'], [4, 'dense'], [7, 'dense'], [8, 'planes']]],
];

for (const [template, Ms, layouts, runs, defaultsM, defaultCases] of SUITES) describe.skipIf(!ctx)(`${template.name} on the GPU`, () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the dequantized float64 reference for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb(Ms, layouts), (c) => check(gpu, template, c)), fcParams(runs));
  });

  it('defaults are valid and correct across widths, K = 468 with group 128 and per-channel', async () => {
    const M = defaultsM;
    for (const [bits, layout] of defaultCases) {
      const group = bits % 3 === 0 ? 0 : 128;
      const c: Case = { M, N: 5, K: 468, bits, group, layout, symmetric: bits % 2 === 0, bias: true, epilogue: [{ op: 'relu', attrs: {} }], knobIndex: 0, seed: bits * 10 + group };
      const p = problemOf(c);
      const k = template.defaults(p, gpu.info);
      expect(template.valid(p, k, gpu.info)).toBe(true);
      await check(gpu, template, c, k);
    }
  });
});

describe('matmul-nbits registry', () => {
  it('serves up to 8 rows with the gemv and more with the gemm, with reasons', () => {
    const p = (M: number): MatmulNBitsProblem => ({ kind: 'matmul-nbits', M, N: 64, K: 256, bits: 3, group: 128, layout: 'dense', bias: false, epilogue: [] });
    const dev = { features: new Set<string>(), limits: { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27 } };
    const [lanes, gemv, gemmLanes, gemm] = templatesFor(p(1));
    expect([lanes?.name, gemv?.name, gemmLanes?.name, gemm?.name]).toEqual(['matmul-nbits-gemv-lanes', 'matmul-nbits-gemv', 'matmul-nbits-lanes', 'matmul-nbits-gemm']);
    expect(matmulNBitsGemvTemplate.valid(p(NBITS_GEMV_MAX_ROWS), matmulNBitsGemvTemplate.defaults(p(8), dev), dev)).toBe(true);
    expect(matmulNBitsGemvTemplate.valid(p(9), { workgroupSize: 64, cols: 1, unroll: 0 }, dev)).toMatch(/rows/);
    expect(matmulNBitsGemvTemplate.valid({ ...p(1), bits: 9 }, { workgroupSize: 64, cols: 1, unroll: 0 }, dev)).toMatch(/1\.\.8 bits/);
    expect(matmulNBitsGemmTemplate.valid(p(64), matmulNBitsGemmTemplate.defaults(p(64), dev), dev)).toBe(true);
  });
});
