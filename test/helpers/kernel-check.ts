// Shared machinery for the kernel-vs-interpreter GPU tests: device acquisition (skip when no
// adapter unless ANYBIT_REQUIRE_GPU=1), the fixed fast-check seed (ANYBIT_SEED), deterministic
// input data, knob sampling from a template's valid space, and the tolerance check.
// Not a test file itself; it never decides what a kernel should compute.

import fc from 'fast-check';
import { enumerateKnobs, type DeviceInfo, type KernelTemplate, type Knobs } from '../../codegen/kernel.ts';
import { emitSource } from '../../codegen/kernels/index.ts';
import type { Epilogue } from '../../codegen/problems.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import { dequantize, type QuantizedWeight } from '../../src/quant/format.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { runKernel } from '../../src/runtime/kernel-runner.ts';
import { gpuOrNull } from './gpu.ts';

export const SEED = Number(process.env.ANYBIT_SEED ?? 42);

/** fast-check parameters: fixed seed (printed by fast-check on failure) and a modest run count. */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, verbose: 1 };
}

/** The shared device, or undefined where GPU suites are skipped (rule in ./gpu.ts). */
export async function gpuForTests(): Promise<GpuContext | undefined> {
  return (await gpuOrNull()) ?? undefined;
}

/** Deterministic values in [lo, hi) (mulberry32), exact in f32. */
export function randomData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/** Random small integers in [lo, hi], as f32 (exponents for pow). */
export function randomInts(n: number, seed: number, lo: number, hi: number): Float32Array {
  return randomData(n, seed, 0, 1).map((u) => lo + Math.min(hi - lo, Math.floor(u * (hi - lo + 1))));
}

/** Sizes: random values mixed with the awkward ones (1, primes, just past power-of-two tiles). */
export function awkwardSize(max: number, extra: readonly number[] = []): fc.Arbitrary<number> {
  const special = [1, 3, 7, 13, 31, 17, 33, 65, ...extra].filter((v) => v <= max);
  return fc.oneof(fc.constantFrom(...special), fc.integer({ min: 1, max }));
}

/** Unary epilogue ops with random attrs, including infinite clip bounds. */
export const epilogueArb: fc.Arbitrary<Epilogue> = fc.array(
  fc.oneof(
    fc.constantFrom<{ op: string; attrs: Attrs }>(
      { op: 'relu', attrs: {} }, { op: 'sigmoid', attrs: {} }, { op: 'tanh', attrs: {} }, { op: 'silu', attrs: {} },
      { op: 'gelu', attrs: {} }, { op: 'gelu', attrs: { approximate: 'tanh' } }, { op: 'hardswish', attrs: {} },
      { op: 'abs', attrs: {} }, { op: 'neg', attrs: {} }, { op: 'clip', attrs: { min: 0, max: 6 } },
      { op: 'clip', attrs: { min: -Infinity, max: 0.5 } }, { op: 'clip', attrs: { min: -0.25 } },
    ),
    fc.double({ min: 0, max: 0.5, noNaN: true }).map((alpha) => ({ op: 'leaky_relu', attrs: { alpha } })),
    fc.tuple(fc.double({ min: 0.05, max: 1, noNaN: true }), fc.double({ min: -0.5, max: 1, noNaN: true }))
      .map(([alpha, beta]) => ({ op: 'hardsigmoid', attrs: { alpha, beta } })),
    fc.tuple(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }))
      .map(([scale, shift]) => ({ op: 'affine', attrs: { scale, shift } })),
  ),
  { maxLength: 2 },
);

/** `epilogue` applied to y [M, N] (float64) by the interpreter: the reference side of fused epilogues. */
export function epilogueReference(y: Float64Array, M: number, N: number, epilogue: Epilogue): Float64Array {
  if (!epilogue.length) return y;
  const g = new GraphBuilder('epi');
  let v = g.input('Y', 'f32', [M, N]);
  for (const e of epilogue) v = g.op(e.op, [v], e.attrs);
  g.output(v);
  return (interpret(g.build(), { Y: ndarray([M, N], y) }).get(v) as NdArray).data;
}

/** epilogue(A · dequant(W)^T + bias) in float64 for A [M, K] and packed W [N, K]; the epilogue through the interpreter. */
export function weightOnlyReference(M: number, a: Float32Array, w: QuantizedWeight, bias: Float32Array | null, epilogue: Epilogue): Float64Array {
  const { N, K } = w;
  const wd = dequantize(w);
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = bias ? (bias[n] as number) : 0;
      for (let k = 0; k < K; k++) acc += (a[m * K + k] as number) * (wd[n * K + k] as number);
      y[m * N + n] = acc;
    }
  }
  return epilogueReference(y, M, N, epilogue);
}

/** One valid knob setting, chosen by `index` from the enumerated valid space. */
export function pickKnobs<P, K extends Knobs>(t: KernelTemplate<P, K>, p: P, dev: DeviceInfo, index: number): K {
  const all = enumerateKnobs(t, p, dev);
  if (!all.length) throw new Error(`${t.name}: no valid knobs for ${t.key(p)}`);
  return all[index % all.length] as K;
}

/** Max |gpu - ref| <= 1e-4 * max(1, max|ref|); equal non-finite values match. A message when not. */
export function compareToReference(gpu: Float32Array, ref: Float64Array): string | undefined {
  if (gpu.length !== ref.length) return `length ${gpu.length} vs reference ${ref.length}`;
  let scale = 1;
  for (const r of ref) if (Number.isFinite(r)) scale = Math.max(scale, Math.abs(r));
  const tol = 1e-4 * scale;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i] as number;
    const g = gpu[i] as number;
    if (!Number.isFinite(r) || !Number.isFinite(g)) {
      if (Object.is(r, g) || (Number.isNaN(r) && Number.isNaN(g)) || r === g) continue;
      return `element ${i}: gpu ${g}, reference ${r}`;
    }
    const err = Math.abs(g - r);
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  if (worstErr > tol) return `max error ${worstErr} > ${tol} at element ${worst}: gpu ${gpu[worst]}, reference ${ref[worst]}`;
  return undefined;
}

/** Runs `t` on the GPU and throws (with template, key, knobs) when it disagrees with `ref`. */
export async function expectKernelMatches<P, K extends Knobs>(
  ctx: GpuContext, t: KernelTemplate<P, K>, p: P, k: K, inputs: readonly Float32Array[], ref: Float64Array,
): Promise<void> {
  const valid = t.valid(p, k, ctx.info);
  if (valid !== true) throw new Error(`${t.name}: knobs ${JSON.stringify(k)} invalid: ${valid}`);
  const wgsl = emitSource(t, p, k, ctx.info);
  const [out] = await runKernel(ctx, wgsl, t.launch(p, k), inputs, [ref.length]);
  const bad = compareToReference(out as Float32Array, ref);
  if (bad) throw new Error(`${t.name} key=${t.key(p)} knobs=${JSON.stringify(k)}: ${bad}`);
}
