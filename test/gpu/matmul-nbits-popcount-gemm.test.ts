// matmul-nbits-popcount-gemm (WxAy, bit planes, any M) vs the matmul_nbits op reference with
// act_bits, on the random cases of test/helpers/popcount-case.ts (M up to 70, past tile edges),
// its defaults, and hand-picked lane blocks and staged word counts.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { matmulNBitsPopcountGemmTemplate } from '../../codegen/kernels/matmul-nbits-popcount-gemm.ts';
import { gpuForTests } from '../helpers/kernel-check.ts';
import { caseArb, check, checkDefaults, type Case } from '../helpers/popcount-case.ts';
import { fcParams } from '../prop/arbitraries.ts';

const ctx = await gpuForTests();
const T = matmulNBitsPopcountGemmTemplate;

describe.skipIf(!ctx)(`${T.name} on the GPU`, () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  // Run counts keep the file well under a minute on lavapipe (2–6 s of LLVM per shader).
  it('matches the op reference for random widths, groups, problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb(fc.oneof(fc.constantFrom(1, 9, 17, 33, 64), fc.integer({ min: 1, max: 70 }))), (c) => check(gpu, T, c)), fcParams(8));
  });

  it('defaults are valid and correct at W4A4, W1A8 and W3A8 (K = 468: group 128, 48 and per-channel)', async () => {
    await checkDefaults(gpu, T, 17, [[4, 4, 128], [1, 8, 0], [3, 8, 48]]);
  });

  it('lane blocks and staged word counts, rows and columns past the tile edges', async () => {
    const base: Case = { M: 19, N: 37, K: 200, bits: 5, actBits: 4, group: 0, weights: 'random-codes', bias: true, epilogue: [], knobIndex: 0, seed: 5 };
    for (const [k, M] of [
      [{ tileM: 16, tileN: 16, rm: 4, rn: 1, kWords: 4 }, 19],
      [{ tileM: 8, tileN: 32, rm: 1, rn: 2, kWords: 2 }, 19],
      // The large-M default (64x64 tiles of 4x4), on a problem smaller than one tile.
      [{ tileM: 64, tileN: 64, rm: 4, rn: 4, kWords: 2 }, 40],
    ] as const) await check(gpu, T, { ...base, M }, k);
  });
});
