// matmul-f16-gemv, -gemv-rows (B stored [n, k]) and matmul-f16-gemm vs a float64 reference on the f16-rounded inputs: random
// M, N, K (odd and prime sizes; N a multiple of 4 half the time so vec loads get drawn), batch
// broadcasting of B, alpha, random valid knobs. Skipped where the adapter lacks shader-f16.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE, type AnyKernelTemplate } from '../../codegen/kernel.ts';
import { gemvTemplate } from '../../codegen/kernels/gemv.ts';
import { emitSource } from '../../codegen/kernels/index.ts';
import { matmulTemplate } from '../../codegen/kernels/matmul.ts';
import { F16_GEMV_MAX_ROWS, matmulF16GemvTemplate } from '../../codegen/kernels/matmul-f16-gemv.ts';
import { matmulF16GemmTemplate } from '../../codegen/kernels/matmul-f16-gemm.ts';
import { F16_GEMV_ROWS_MAX_ROWS, matmulF16GemvRowsTemplate } from '../../codegen/kernels/matmul-f16-gemv-rows.ts';
import type { MatmulProblem } from '../../codegen/problems.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { runKernel } from '../../src/runtime/kernel-runner.ts';
import { f16Lanes, packF16, roundToF16, unpackF16 } from '../../src/util/f16.ts';
import { awkwardSize, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();
const hasF16 = ctx?.info.features.has('shader-f16') ?? false;

interface Case { batch: number; bBroadcast: boolean; M: number; N: number; K: number; alpha: number; knobIndex: number; dataSeed: number }

function problemOf(c: Case): MatmulProblem {
  const batched = c.batch > 1;
  return {
    kind: 'matmul', dtype: 'f16', batchShape: batched ? [c.batch] : [],
    aBatchStrides: batched ? [c.M * c.K] : [], bBatchStrides: batched ? [c.bBroadcast ? 0 : c.K * c.N] : [],
    M: c.M, N: c.N, K: c.K, transA: false, transB: false, alpha: c.alpha, beta: 1, bias: null, epilogue: [],
  };
}

/**
 * Checks every output against the float64 product of the f16-rounded inputs. The kernel's
 * products of two f16 values are exact in f32 (11 + 11 significant bits <= 24); the f32 sum
 * of K terms errs by at most K * 2^-24 * Σ|a·b| (a loose form of the standard bound); alpha is
 * a power of two (exact); the final f16 rounding errs by half an ulp, 2^-11 |y|, or 2^-25 for
 * subnormals. So |gpu - ref| <= 2^-11 |ref| + |alpha| * (K * 2^-23 Σ|a·b|) + 2^-24 must hold
 * per element (the 2x on the sum term covers the half-ulp growth of the rounded sum itself).
 */
function expectF16Matmul(c: Case, a: Float32Array, b: Float32Array, got: Float32Array): void {
  for (let t = 0; t < c.batch; t++) {
    const aO = t * c.M * c.K;
    const bO = c.bBroadcast ? 0 : t * c.K * c.N;
    for (let m = 0; m < c.M; m++) for (let n = 0; n < c.N; n++) {
      let ref = 0;
      let mag = 0;
      for (let k = 0; k < c.K; k++) {
        const x = (a[aO + m * c.K + k] as number) * (b[bO + k * c.N + n] as number);
        ref += x;
        mag += Math.abs(x);
      }
      ref *= c.alpha;
      const y = got[(t * c.M + m) * c.N + n] as number;
      const bound = 2 ** -11 * Math.abs(ref) + Math.abs(c.alpha) * c.K * 2 ** -23 * mag + 2 ** -24;
      if (!(Math.abs(y - ref) <= bound)) expect.fail(`batch ${t} (${m}, ${n}): got ${y}, want ${ref} ± ${bound}`);
    }
  }
}

async function runCase(gpu: GpuContext, template: AnyKernelTemplate, c: Case, knobs: Record<string, number>): Promise<void> {
  const p = problemOf(c);
  const a = roundToF16(randomData(c.batch * c.M * c.K, c.dataSeed));
  const b = roundToF16(randomData((c.bBroadcast ? 1 : c.batch) * c.K * c.N, c.dataSeed + 1));
  const wgsl = emitSource(template, p, knobs, gpu.info);
  const [out] = await runKernel(gpu, wgsl, template.launch(p, knobs), [packF16(a), packF16(b)], [f16Lanes(c.batch * c.M * c.N)]);
  expectF16Matmul(c, a, b, unpackF16(out as Float32Array, c.batch * c.M * c.N));
}

const caseArb = (maxM: number, maxK: number): fc.Arbitrary<Case> => fc.record({
  batch: fc.constantFrom(1, 1, 2, 3), bBroadcast: fc.boolean(), M: awkwardSize(maxM), K: awkwardSize(maxK),
  N: fc.oneof(awkwardSize(70), awkwardSize(24).map((n) => 4 * n)), alpha: fc.constantFrom(1, 0.5, -2),
  knobIndex: fc.nat(), dataSeed: fc.nat(),
});

describe('f16 matmul template selection', () => {
  const p = problemOf({ batch: 1, bBroadcast: false, M: 1, N: 8, K: 8, alpha: 1, knobIndex: 0, dataSeed: 0 });
  const withF16 = { ...DEFAULT_DEVICE, features: new Set(['shader-f16']) };
  it('the f32 templates reject f16 problems and the f16 ones need shader-f16', () => {
    expect(gemvTemplate.valid(p, gemvTemplate.defaults(p, withF16), withF16)).toMatch(/f32 kernel/);
    expect(matmulTemplate.valid(p, matmulTemplate.defaults(p, withF16), withF16)).toMatch(/f32 kernel/);
    expect(matmulF16GemvTemplate.valid(p, matmulF16GemvTemplate.defaults(p, withF16), DEFAULT_DEVICE)).toMatch(/shader-f16/);
    expect(matmulF16GemvTemplate.valid(p, matmulF16GemvTemplate.defaults(p, withF16), withF16)).toBe(true);
    expect(matmulF16GemmTemplate.valid({ ...p, dtype: 'f32' }, matmulF16GemmTemplate.defaults(p, withF16), withF16)).toMatch(/f16 matmuls only/);
  });
});

for (const [template, maxM, maxK, runs] of [[matmulF16GemvTemplate, F16_GEMV_MAX_ROWS, 300, 10], [matmulF16GemmTemplate, 70, 90, 10]] as [AnyKernelTemplate, number, number, number][]) {
  describe.skipIf(!hasF16)(`${template.name} on the GPU`, () => {
    const gpu = ctx as GpuContext;

    it('matches the f64 reference on f16-rounded inputs for random problems and knobs', async () => {
      await fc.assert(fc.asyncProperty(caseArb(maxM, maxK), async (c) => {
        await runCase(gpu, template, c, pickKnobs(template, problemOf(c), gpu.info, c.knobIndex));
      }), fcParams(runs));
    });

    it('defaults are valid and correct, including long K', async () => {
      for (const [M, N, K] of [[1, 1, 1], [1, 260, 1031], [3, 33, 517], [8, 64, 64]] as const) {
        const c: Case = { batch: 1, bBroadcast: false, M, N, K, alpha: 1, knobIndex: 0, dataSeed: M + N + K };
        const k = template.defaults(problemOf(c), gpu.info);
        expect(template.valid(problemOf(c), k, gpu.info)).toBe(true);
        await runCase(gpu, template, c, k);
      }
    });
  });
}

describe.skipIf(!hasF16)('matmul-f16-gemv-rows on the GPU', () => {
  // Same reference on B[k, n]; the kernel gets B transposed ([n, k]), K a multiple of 4, one batch.
  const fit = (c: Case): Case => ({ ...c, batch: 1, K: 4 * Math.ceil(c.K / 4) });
  async function runRows(gpu: GpuContext, c: Case, knobs: Record<string, number>): Promise<void> {
    const p = { ...problemOf(c), transB: true };
    const a = roundToF16(randomData(c.M * c.K, c.dataSeed));
    const b = roundToF16(randomData(c.K * c.N, c.dataSeed + 1));
    const bt = new Float32Array(c.K * c.N);
    for (let k = 0; k < c.K; k++) for (let n = 0; n < c.N; n++) bt[n * c.K + k] = b[k * c.N + n] as number;
    const t: AnyKernelTemplate = matmulF16GemvRowsTemplate;
    const [out] = await runKernel(gpu, emitSource(t, p, knobs, gpu.info), t.launch(p, knobs), [packF16(a), packF16(bt)], [f16Lanes(c.M * c.N)]);
    expectF16Matmul(c, a, b, unpackF16(out as Float32Array, c.M * c.N));
  }

  it('matches the f64 reference on f16-rounded inputs for random problems and knobs', async () => {
    const gpu = ctx as GpuContext;
    await fc.assert(fc.asyncProperty(caseArb(F16_GEMV_ROWS_MAX_ROWS, 300).map(fit), async (c) => {
      await runRows(gpu, c, pickKnobs(matmulF16GemvRowsTemplate, { ...problemOf(c), transB: true }, gpu.info, c.knobIndex));
    }), fcParams(12));
  });

  it('defaults are valid and correct; untransposed or batched problems are refused', async () => {
    const gpu = ctx as GpuContext;
    for (const [M, N, K] of [[1, 1, 4], [1, 260, 1032], [3, 33, 516], [8, 64, 64]] as const) {
      const c: Case = { batch: 1, bBroadcast: false, M, N, K, alpha: 1, knobIndex: 0, dataSeed: M + N + K };
      const p = { ...problemOf(c), transB: true };
      const k = matmulF16GemvRowsTemplate.defaults(p, gpu.info);
      expect(matmulF16GemvRowsTemplate.valid(p, k, gpu.info)).toBe(true);
      expect(matmulF16GemvRowsTemplate.valid({ ...p, transB: false }, k, gpu.info)).toMatch(/transB/);
      expect(matmulF16GemvRowsTemplate.valid(problemOf({ ...c, batch: 2 }), k, gpu.info)).not.toBe(true);
      await runRows(gpu, c, k);
    }
  });
});
