// Weight-only quantized matmul benchmark: GEMV 1x4096·4096 and GEMM 64x4096·4096 at every width
// 1–8 (dense layout, group 128, default knobs) against our f32 matmul on the same shape (W[N, K]).
// Kernel time alone (tuner's timeKernel: median, GPU timestamps when available); each output is
// spot-checked in float64 first. GB/s counts packed words + scales/zeros + activations + output.
//   npx tsx bench/quant.ts [--quick] [--repeats N]

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnyKernelTemplate } from '../codegen/kernel.ts';
import { templatesFor } from '../codegen/kernels/index.ts';
import type { MatmulNBitsProblem, MatmulProblem } from '../codegen/problems.ts';
import { denseRowWords, groupsPerRow } from '../src/quant/format.ts';
import { acquireDevice, releaseDevice, type GpuContext } from '../src/runtime/device.ts';
import { PreparedKernel } from '../src/runtime/kernel-runner.ts';
import { timeKernel } from '../src/tuner/measure.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const REPEATS = args.includes('--repeats') ? Number(args[args.indexOf('--repeats') + 1]) : quick ? 3 : 5;
const K = 4096;
const N = 4096;
const GROUP = 128;

interface Result { readonly shape: string; readonly kernel: string; readonly bits: number | null; readonly ms: number; readonly bytes: number; readonly maxRelErr: number }

function firstValid(problem: MatmulProblem | MatmulNBitsProblem, ctx: GpuContext): { t: AnyKernelTemplate; knobs: unknown } {
  for (const t of templatesFor(problem)) {
    const knobs = t.defaults(problem, ctx.info);
    if (t.valid(problem, knobs, ctx.info) === true) return { t, knobs };
  }
  throw new Error(`no template serves ${problem.kind} M=${problem.M}`);
}

/** Times `problem` on `inputs`; `refAt(m, n)` gives float64 values for a spot check of 32 outputs. */
async function measure(ctx: GpuContext, problem: MatmulProblem | MatmulNBitsProblem, inputs: Float32Array[], refAt: (m: number, n: number) => number): Promise<{ name: string; ms: number; err: number }> {
  const { t, knobs } = firstValid(problem, ctx);
  const launch = t.launch(problem, knobs);
  const k = await PreparedKernel.create(ctx, t.source(problem, knobs, ctx.info), launch, inputs, [problem.M * N], t.name);
  try {
    const [out] = await k.run();
    const rand = mulberry32(5);
    let err = 0;
    for (let s = 0; s < 32; s++) {
      const m = Math.floor(rand() * problem.M);
      const n = Math.floor(rand() * N);
      const r = refAt(m, n);
      err = Math.max(err, Math.abs(((out as Float32Array)[m * N + n] as number) - r) / Math.max(1e-6, Math.abs(r)));
    }
    const timing = await timeKernel(ctx, k, 1, REPEATS);
    return { name: `${t.name} ${JSON.stringify(knobs)}`, ms: timing.medianMs, err };
  } finally {
    k.destroy();
  }
}

const ctx = await acquireDevice();
const results: Result[] = [];
for (const M of quick ? [1] : [1, 64]) {
  const shape = `${M}x${K}·${K}x${N}`;
  const rand = mulberry32(M);
  const a = uniformF32(M * K, rand);
  const dot = (wAt: (n: number, k: number) => number) => (m: number, n: number): number => {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += (a[m * K + k] as number) * wAt(n, k);
    return acc;
  };
  const w = uniformF32(N * K, rand, 1 / Math.sqrt(K));
  const f32: MatmulProblem = { kind: 'matmul', batchShape: [], aBatchStrides: [], bBatchStrides: [], M, N, K, transA: false, transB: true, alpha: 1, beta: 1, bias: null, epilogue: [] };
  const base = await measure(ctx, f32, [a, w], dot((n, k) => w[n * K + k] as number));
  results.push({ shape, kernel: base.name, bits: null, ms: base.ms, bytes: 4 * (M * K + N * K + M * N), maxRelErr: base.err });
  console.log(`${shape} f32 ${base.ms.toFixed(2)} ms (${base.name})`);
  for (let bits = 8; bits >= 1; bits--) {
    // Any bit pattern is a valid dense packing, so random words are random codes.
    const rw = denseRowWords(K, bits);
    const words = new Uint32Array(N * rw).map(() => Math.floor(rand() * 2 ** 32));
    const G = groupsPerRow(K, GROUP);
    const scales = uniformF32(N * G, rand, 0.05).map((s) => 0.06 + s);
    const zeros = new Float32Array(N * G).fill(2 ** (bits - 1));
    const code = (n: number, k: number): number => {
      const bit = k * bits;
      const i = n * rw + (bit >>> 5);
      const sh = bit & 31;
      let q = (words[i] as number) >>> sh;
      if (sh + bits > 32) q |= (words[i + 1] as number) << (32 - sh);
      return q & (2 ** bits - 1);
    };
    const p: MatmulNBitsProblem = { kind: 'matmul-nbits', M, N, K, bits, group: GROUP, layout: 'dense', bias: false, epilogue: [] };
    const r = await measure(ctx, p, [a, new Float32Array(words.buffer), scales, zeros], dot((n, k) => {
      const g = n * G + Math.floor(k / GROUP);
      return (scales[g] as number) * (code(n, k) - (zeros[g] as number));
    }));
    results.push({ shape, kernel: r.name, bits, ms: r.ms, bytes: 4 * words.length + 8 * N * G + 4 * (M * K + M * N), maxRelErr: r.err });
    console.log(`${shape} W${bits} ${r.ms.toFixed(2)} ms err ${r.err.toExponential(1)} (${r.name})`);
  }
}

const lines = [
  `# Weight-only quantized matmul on ${ctx.fingerprint.description}`, '',
  `${new Date().toISOString()}; ${os.cpus().length} CPU cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; median of ${REPEATS} (GPU timestamps: ${ctx.hasTimestamps}).`, '',
  '| shape | weights | kernel | median ms | GB/s | vs f32 | max rel err (32 samples) |', '|---|---|---|---|---|---|---|',
];
for (const r of results) {
  const f32 = results.find((x) => x.shape === r.shape && x.bits === null) as Result;
  lines.push(`| ${r.shape} | ${r.bits === null ? 'f32' : `W${r.bits} g${GROUP}`} | ${r.kernel} | ${r.ms.toFixed(2)} | ${(r.bytes / (r.ms * 1e6)).toFixed(2)} | ${(r.ms / f32.ms).toFixed(2)} | ${r.maxRelErr.toExponential(1)} |`);
}
for (const shape of new Set(results.map((r) => r.shape))) {
  const q = results.filter((r) => r.shape === shape && r.bits !== null).sort((x, y) => (y.bits as number) - (x.bits as number));
  const falls = q.every((r, i) => i === 0 || r.ms <= (q[i - 1] as Result).ms);
  lines.push('', `${shape}: latency ${falls ? 'falls monotonically' : 'does not fall monotonically'} as bits drop (W8 ${q[0]?.ms.toFixed(2)} ms -> W1 ${q[q.length - 1]?.ms.toFixed(2)} ms).`);
}
const text = `${lines.join('\n')}\n`;
console.log(text);
const dir = path.resolve('bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `quant-${ctx.fingerprint.id}.md`), text);
await releaseDevice();
