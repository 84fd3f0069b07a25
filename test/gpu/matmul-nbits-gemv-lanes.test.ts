// matmul-nbits-gemv-lanes vs a float64 reference built from dequantize(): random widths 1–8,
// groups of whole 32-code chunks and per-channel, odd K (short last chunk, K % 4 != 0 without
// shareA), odd N past workgroup edges, symmetric/fractional/random zeros, bias, epilogues and
// random knobs (workgroup size, columns per lane, subgroup-shared A, u32/vec2/vec4 word blocks; K
// multiples of 128 so vector blocks are valid). Plus the routing reasons.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matmulNBitsGemvLanesTemplate as lanes, NBITS_GEMV_LANES_MIN_N } from '../../codegen/kernels/matmul-nbits-gemv-lanes.ts';
import type { Epilogue, MatmulNBitsProblem } from '../../codegen/problems.ts';
import { codeCentre, signedCode, signFlipMasks } from '../../codegen/wgsl/packed-signed.ts';
import { groupsPerRow, packCodes, type QuantizedWeight } from '../../src/quant/format.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { epilogueArb, weightOnlyReference, expectKernelMatches, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { fcParams } from '../prop/arbitraries.ts';

const ctx = await gpuForTests();

interface Case { M: number; N: number; K: number; bits: number; group: number; zeros: 'symmetric' | 'random' | 'fractional'; bias: boolean; epilogue: Epilogue; knobIndex: number; seed: number }

const caseArb: fc.Arbitrary<Case> = fc.record({
  M: fc.constantFrom(1, 1, 2, 3, 5),
  N: fc.oneof(fc.constantFrom(32, 33, 63, 65, 127, 129), fc.integer({ min: NBITS_GEMV_LANES_MIN_N, max: 300 })),
  K: fc.oneof(fc.constantFrom(1, 4, 31, 32, 33, 95, 130, 257, 468, 128, 256, 300, 512), fc.integer({ min: 1, max: 520 })),
  bits: fc.integer({ min: 1, max: 8 }),
  group: fc.constantFrom(0, 32, 64, 128, 256),
  zeros: fc.constantFrom('symmetric', 'random', 'fractional'),
  bias: fc.boolean(),
  epilogue: epilogueArb,
  knobIndex: fc.nat(),
  seed: fc.nat(),
}) as fc.Arbitrary<Case>;

const problemOf = (c: Case): MatmulNBitsProblem => ({ kind: 'matmul-nbits', M: c.M, N: c.N, K: c.K, bits: c.bits, group: c.group || c.K, layout: 'dense', bias: c.bias, epilogue: c.epilogue });

function weightOf(c: Case): QuantizedWeight {
  const rand = mulberry32(c.seed);
  const group = c.group || c.K;
  const G = groupsPerRow(c.K, group);
  const top = 2 ** c.bits - 1;
  const codes = Array.from({ length: c.N * c.K }, () => Math.floor(rand() * (top + 1)));
  const scales = Float32Array.from({ length: c.N * G }, () => 0.01 + 0.09 * rand());
  const zero = (): number => (c.zeros === 'symmetric' ? codeCentre(c.bits) : c.zeros === 'random' ? Math.round(rand() * top) : rand() * top);
  const zeros = Float32Array.from({ length: c.N * G }, zero);
  return { N: c.N, K: c.K, bits: c.bits, group, layout: 'dense', words: packCodes(codes, c.N, c.K, c.bits, 'dense'), scales, zeros };
}

async function check(gpu: NonNullable<typeof ctx>, c: Case, knobs?: unknown): Promise<void> {
  const p = problemOf(c);
  const k = knobs ?? pickKnobs(lanes, p, gpu.info, c.knobIndex);
  const w = weightOf(c);
  const a = randomData(c.M * c.K, c.seed + 1);
  const bias = c.bias ? randomData(c.N, c.seed + 2) : null;
  const inputs = [a, new Float32Array(w.words.buffer), w.scales, w.zeros, ...(bias ? [bias] : [])];
  await expectKernelMatches(gpu, lanes, p, k as never, inputs, weightOnlyReference(c.M, a, w, bias, c.epilogue));
}

describe('centred chunk codes', () => {
  it('signedCode over sign-flipped words gives q - 2^(b-1) for every width and position', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(255), { minLength: 32, maxLength: 32 }), (bits, raw) => {
      const codes = raw.map((q) => q & (2 ** bits - 1));
      const words = packCodes(codes, 1, 32, bits, 'dense');
      const flipped = Array.from(words, (w, t) => (w ^ (signFlipMasks(bits)[t] as number)) >>> 0);
      for (let i = 0; i < 32; i++) {
        // Evaluate the WGSL expression in JS: u32 shifts are logical, the outer i32 one arithmetic.
        const js = signedCode(bits, (w) => `W[${w}]`, i)
          .replace(/bitcast<i32>\(/g, '((').replace(/(\d+)u/g, '$1').replace(/ >> /g, ' >>> ')
          .replace(/\) >>> (\d+)\)$/, ') | 0) >> $1)');
        const value = new Function('W', `return ${js};`)(flipped) as number;
        expect(value).toBe((codes[i] as number) - codeCentre(bits));
      }
    }), fcParams(60));
  });
});

describe.skipIf(!ctx)('matmul-nbits-gemv-lanes on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the dequantized float64 reference for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, (c) => check(gpu, c)), fcParams(8));
  });

  // Each shader costs ~1 s of lavapipe LLVM: the widths cover aligned, straddling and both ends.
  it('defaults are valid and correct for widths 1, 3, 6 (M = 8), 8; K = 468, group 128 and per-channel', async () => {
    for (const bits of [1, 3, 6, 8]) {
      const c: Case = { M: bits === 6 ? 8 : 1, N: 70, K: 468, bits, group: bits % 3 === 0 ? 0 : 128, zeros: bits % 2 ? 'fractional' : 'symmetric', bias: true, epilogue: [{ op: 'relu', attrs: {} }], knobIndex: 0, seed: bits };
      const k = lanes.defaults(problemOf(c), gpu.info);
      expect(lanes.valid(problemOf(c), k, gpu.info)).toBe(true);
      await check(gpu, c, k);
    }
  });
});

describe.skipIf(!ctx)('matmul-nbits-gemv-lanes vector word blocks', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  // Per-channel (one group over K, with a short tail chunk) and group 128; straddling and aligned widths.
  it('vec2 and vec4 blocks match the reference for widths 3, 4, 7 (shareA on and off)', async () => {
    // [bits, chunks, K, group, M, cols]: M·cols·chunks at the cap of 8 keeps each shader's compile short.
    const cases: [number, number, number, number, number, number][] = [[3, 4, 256, 128, 2, 1], [7, 2, 264, 0, 2, 2], [4, 4, 286, 0, 1, 2], [3, 2, 128, 64, 1, 4]];
    for (const [bits, chunks, K, group, M, cols] of cases) {
      const c: Case = { M, N: 70, K, bits, group, zeros: 'fractional', bias: false, epilogue: [], knobIndex: 0, seed: bits + chunks };
      const k = { workgroupSize: 16, cols, shareA: K % 8 === 0 ? 1 : 0, chunks };
      expect(lanes.valid(problemOf(c), k, gpu.info)).toBe(true);
      await check(gpu, c, k);
    }
  });
});

describe('matmul-nbits-gemv-lanes routing', () => {
  it('rejects, with reasons, what the other templates serve', () => {
    const p = (over: Partial<MatmulNBitsProblem>): MatmulNBitsProblem => ({ kind: 'matmul-nbits', M: 1, N: 64, K: 256, bits: 4, group: 128, layout: 'dense', bias: false, epilogue: [], ...over });
    const dev = { features: new Set<string>(), limits: { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27 } };
    const k = { workgroupSize: 16, cols: 1, shareA: 0, chunks: 1 };
    expect(lanes.valid(p({}), k, dev)).toBe(true);
    expect(lanes.valid(p({ layout: 'planes' }), k, dev)).toMatch(/planes/);
    expect(lanes.valid(p({ group: 48 }), k, dev)).toMatch(/group 48/);
    expect(lanes.valid(p({ N: 31 }), k, dev)).toMatch(/idle/);
    expect(lanes.valid(p({ M: 9 }), k, dev)).toMatch(/rows/);
    expect(lanes.valid(p({ actBits: 8, actLayout: 'dense' }), k, dev)).toMatch(/WxAy/);
    expect(lanes.valid(p({}), { ...k, shareA: 1 }, dev)).toMatch(/subgroups/);
    expect(lanes.valid(p({ K: 258 }), { ...k, shareA: 1 }, { ...dev, features: new Set(['subgroups']) })).toMatch(/multiple of 4/);
    expect(lanes.valid(p({ K: 224 }), { ...k, chunks: 2 }, dev)).toMatch(/whole blocks/);
    expect(lanes.valid(p({ K: 512, group: 64 }), { ...k, chunks: 4 }, dev)).toMatch(/splits blocks/);
    expect(lanes.valid(p({ K: 260, bits: 3, group: 512 }), { ...k, chunks: 4 }, dev)).toMatch(/vec4/);
    expect(lanes.valid(p({ K: 512 }), { ...k, chunks: 4 }, dev)).toBe(true);
    expect(lanes.valid(p({ K: 512, M: 3 }), { ...k, chunks: 4 }, dev)).toMatch(/unrolled/);
    expect(lanes.defaults(p({}), dev)).toEqual({ workgroupSize: 8, cols: 4, shareA: 0, chunks: 1 });
  });
});
