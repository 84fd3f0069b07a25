// The suite's f16 kernel rows: our matmul-f16 templates (defaults, run through PreparedKernel,
// output read back each run as ORT's is; GEMVs read the weight stored [N, K]) vs onnxruntime-node's
// MatMul on float16 tensors. Each contender's output is checked against the f64 product of the
// f16-rounded inputs before timing.
// Kernel-level only: the compiler does not lower f16 graphs yet, so there is no bundle here.

import type { AnyKernelTemplate } from '../codegen/kernel.ts';
import type { MatmulProblem } from '../codegen/problems.ts';
import { emitSource } from '../codegen/kernels/index.ts';
import { F16_GEMV_ROWS_MAX_ROWS, matmulF16GemvRowsTemplate } from '../codegen/kernels/matmul-f16-gemv-rows.ts';
import { matmulF16GemmTemplate } from '../codegen/kernels/matmul-f16-gemm.ts';
import { f16BitsToNumber } from '../src/ir/f16.ts';
import type { GpuContext } from '../src/runtime/device.ts';
import { PreparedKernel } from '../src/runtime/kernel-runner.ts';
import { f16Lanes, packF16, roundToF16, toF16Bits, unpackF16 } from '../src/util/f16.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { sampledError, timed } from './models.ts';
import { matmulModelF16 } from './onnx-models.ts';
import type { Ort } from './ort.ts';
import type { Contender, Row } from './report.ts';

/** f16 output rounding alone is 2^-11 ≈ 4.9e-4 relative; accumulation order adds little. */
const MAX_ERR = 1e-3;

function transposed(w: Float32Array, K: number, N: number): Float32Array {
  const t = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) t[n * K + k] = w[k * N + n] as number;
  return t;
}

async function contender(name: string, repeats: number, run: () => Promise<Float32Array>, check: (y: Float32Array) => number): Promise<Contender> {
  let maxErr = NaN;
  const r = await timed(repeats, async () => ({ out: await run() }), (y) => {
    maxErr = check(y);
    if (!(maxErr <= MAX_ERR)) throw new Error(`${name}: output check failed: relative error ${maxErr}`);
  });
  return { name, firstMs: r.firstMs, medianMs: r.medianMs, spreadMs: r.spreadMs, gpuMs: r.gpuMs, peakBytes: null, maxErr };
}

export async function matmulF16Row(ctx: GpuContext, ort: Ort | null, repeats: number, M: number, K: number, N: number, log: (line: string) => void): Promise<Row> {
  if (!ctx.info.features.has('shader-f16')) throw new Error("the device lacks 'shader-f16'");
  const rand = mulberry32(M * 31 + K * 7 + N + 16);
  const x = roundToF16(uniformF32(M * K, rand));
  const w = roundToF16(uniformF32(K * N, rand, 1 / Math.sqrt(K)));
  const check = (y: Float32Array): number => sampledError(x, w, y, M, K, N);
  const contenders: Contender[] = [];

  // GEMVs read the weight stored [N, K], the layout the compiler gives GEMV weights (gemv-weight-layout).
  const gemv = M <= F16_GEMV_ROWS_MAX_ROWS && K % 4 === 0;
  const p: MatmulProblem = { kind: 'matmul', dtype: 'f16', batchShape: [], aBatchStrides: [], bBatchStrides: [], M, N, K, transA: false, transB: gemv, alpha: 1, beta: 1, bias: null, epilogue: [] };
  const template: AnyKernelTemplate = gemv ? matmulF16GemvRowsTemplate : matmulF16GemmTemplate;
  const knobs = template.defaults(p, ctx.info);
  const valid = template.valid(p, knobs, ctx.info);
  if (valid !== true) throw new Error(`${template.name}: ${valid}`);
  const kernel = await PreparedKernel.create(ctx, emitSource(template, p, knobs, ctx.info), template.launch(p, knobs), [packF16(x), packF16(gemv ? transposed(w, K, N) : w)], [f16Lanes(M * N)], template.name);
  try {
    contenders.push(await contender('anybit', repeats, async () => unpackF16((await kernel.run())[0] as Float32Array, M * N), check));
  } finally {
    kernel.destroy();
  }

  for (const ep of ort ? (['webgpu', 'cpu'] as const) : []) {
    try {
      const o = ort as Ort;
      const s = await o.InferenceSession.create(matmulModelF16(M, K, N, toF16Bits(w)), { executionProviders: [ep], logSeverityLevel: 3 });
      const feeds = { x: new o.Tensor('float16', toF16Bits(x), [M, K]) };
      const run = async (): Promise<Float32Array> => {
        const y = (await s.run(feeds)).y?.data;
        // ORT hands float16 back as raw bits (Uint16Array), or as Float16Array where Node has one.
        return y instanceof Uint16Array ? Float32Array.from(y, f16BitsToNumber) : Float32Array.from(y as ArrayLike<number>);
      };
      contenders.push(await contender(`ort-${ep}`, repeats, run, check));
      await s.release();
    } catch (e) {
      log(`ort-${ep} f16 ${M}x${K}x${N}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { case: `matmul f16 ${M}x${K} · ${K}x${N}`, flops: 2 * M * N * K, bytes: 2 * (M * K + K * N + M * N), contenders };
}
