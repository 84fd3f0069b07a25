// matmul-nbits-popcount-gemv (WxAy, bit planes, M <= 8) vs the matmul_nbits op reference with
// act_bits: activations quantized per token by packActRows, weights from the quantizer (rtn,
// symmetric or not) or random full-range codes with fractional zero points; widths W1–8 x A2–8,
// odd and prime K and N, groups aligned, unaligned (48, 100, 7) and per-channel, bias, epilogues,
// random knobs. The integer sums are exact, so only the f32 epilogue rounds (1e-4 · max|ref|).
// The registry tests here cover both popcount templates; the gemm has its own file.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templatesFor } from '../../codegen/kernels/index.ts';
import { matmulNBitsPopcountGemmTemplate } from '../../codegen/kernels/matmul-nbits-popcount-gemm.ts';
import { matmulNBitsPopcountGemvTemplate } from '../../codegen/kernels/matmul-nbits-popcount-gemv.ts';
import type { MatmulNBitsProblem } from '../../codegen/problems.ts';
import { gpuForTests } from '../helpers/kernel-check.ts';
import { caseArb, check, checkDefaults, type Case } from '../helpers/popcount-case.ts';
import { fcParams } from '../prop/arbitraries.ts';

const ctx = await gpuForTests();
const T = matmulNBitsPopcountGemvTemplate;

describe.skipIf(!ctx)(`${T.name} on the GPU`, () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  // Run counts keep the file well under a minute on lavapipe (1–3 s of LLVM per shader).
  it('matches the op reference for random widths, groups, problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb(fc.constantFrom(1, 1, 2, 3, 8)), (c) => check(gpu, T, c)), fcParams(12));
  });

  it('defaults are valid and correct at W4A4, W1A8, W3A8 and W8A4 (K = 468: group 128, 48 and per-channel)', async () => {
    await checkDefaults(gpu, T, 1, [[4, 4, 128], [1, 8, 0], [3, 8, 48], [8, 4, 0]]);
  });

  it('weight planes split over lanes (bit-stacking), long and short spans, several columns', async () => {
    const base: Case = { M: 1, N: 13, K: 200, bits: 5, actBits: 4, group: 48, weights: 'random-codes', bias: true, epilogue: [], knobIndex: 0, seed: 5 };
    for (const k of [
      { workgroupSize: 32, cols: 2, planeSplit: 4, span: 1 },
      { workgroupSize: 64, cols: 4, planeSplit: 2, span: 4 },
      { workgroupSize: 128, cols: 1, planeSplit: 4, span: 2 },
    ]) await check(gpu, T, { ...base, M: k.cols === 4 ? 5 : 1 }, k); // M = 5 at A4: planes looped, not held
  });
});

describe('popcount templates in the registry', () => {
  const dev = { features: new Set<string>(), limits: { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27 } };
  const p = (M: number, over: Partial<MatmulNBitsProblem> = {}): MatmulNBitsProblem => ({ kind: 'matmul-nbits', M, N: 4096, K: 4096, bits: 4, group: 128, layout: 'planes', bias: false, epilogue: [], actBits: 4, actLayout: 'planes', ...over });

  it('the first template whose defaults are valid is the popcount gemv up to 8 rows, then the gemm', () => {
    const first = (q: MatmulNBitsProblem): string | undefined => templatesFor(q).find((t) => t.valid(q, t.defaults(q, dev), dev) === true)?.name;
    expect(first(p(1))).toBe('matmul-nbits-popcount-gemv');
    expect(first(p(8))).toBe('matmul-nbits-popcount-gemv');
    expect(first(p(64))).toBe('matmul-nbits-popcount-gemm');
    // 8 rows x 512 groups of Σqa do not fit the gemv's shared table: the gemm serves them.
    expect(matmulNBitsPopcountGemvTemplate.valid(p(8, { K: 16384, group: 32 }), matmulNBitsPopcountGemvTemplate.defaults(p(8), dev), dev)).toMatch(/Σqa table/);
    expect(first(p(8, { K: 16384, group: 32 }))).toBe('matmul-nbits-popcount-gemm');
  });

  it('rejects dense layouts, f32 activations and integer sums that could overflow, with reasons', () => {
    const k = matmulNBitsPopcountGemvTemplate.defaults(p(1), dev);
    expect(matmulNBitsPopcountGemvTemplate.valid(p(1, { layout: 'dense' }), k, dev)).toMatch(/planes/);
    expect(matmulNBitsPopcountGemvTemplate.valid(p(1, { actBits: 0 }), k, dev)).toMatch(/quantized activations/);
    expect(matmulNBitsPopcountGemmTemplate.valid(p(64, { bits: 8, actBits: 8, group: 40000, K: 40000 }), matmulNBitsPopcountGemmTemplate.defaults(p(64), dev), dev)).toMatch(/overflows/);
  });
});
