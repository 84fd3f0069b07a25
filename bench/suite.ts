// The benchmark suite: our kernels against onnxruntime-node (webgpu and cpu providers) on the
// same adapter, in the same run, with the same inputs, warm-up and synchronisation (inputs in
// host memory, outputs read back). Every contender's output is checked before its time counts.
//   npx tsx bench/suite.ts [--quick] [--only NAME] [--no-models]
// Writes bench/results/<device>.md and .json.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { compileGraph } from '../src/compile/compile.ts';
import { GraphBuilder } from '../src/ir/builder.ts';
import { tensor } from '../src/ir/tensor.ts';
import { acquireDevice, releaseDevice, type GpuContext } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { TuningDb, defaultDbPath } from '../src/tuner/index.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { matmulModel } from './onnx-models.ts';
import { benchModels, modelRow, timed, type ModelContender, type ModelRow } from './models.ts';
import { measureRoofline, type Roofline } from './roofline.ts';

/** A kernel-row contender: the model rows' shape, with the sampled relative error as `maxErr`. */
type Contender = Omit<ModelContender, 'relErr'> & { readonly maxErr: number };

interface Row {
  readonly case: string;
  readonly flops: number;
  readonly bytes: number;
  readonly contenders: Contender[];
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const REPEATS = quick ? 3 : 7;

/** Max relative error of `y` on 64 sampled entries of X·W, computed in float64. */
function sampledError(x: Float32Array, w: Float32Array, y: Float32Array, M: number, K: number, N: number): number {
  const rand = mulberry32(99);
  let worst = 0;
  let scale = 1e-30;
  for (let s = 0; s < 64; s++) {
    const m = Math.floor(rand() * M);
    const n = Math.floor(rand() * N);
    let acc = 0;
    for (let k = 0; k < K; k++) acc += (x[m * K + k] as number) * (w[k * N + n] as number);
    worst = Math.max(worst, Math.abs(acc - (y[m * N + n] as number)));
    scale = Math.max(scale, Math.abs(acc));
  }
  return worst / scale;
}

async function timeRuns(run: () => Promise<{ out: Float32Array; gpuMs?: number | null }>, check: (y: Float32Array) => number): Promise<Omit<Contender, 'name' | 'firstMs' | 'peakBytes'>> {
  let maxErr = NaN;
  const r = await timed(REPEATS, run, (out) => {
    maxErr = check(out);
    if (!(maxErr <= 1e-3)) throw new Error(`output check failed: relative error ${maxErr}`);
  });
  return { medianMs: r.medianMs, spreadMs: r.spreadMs, gpuMs: r.gpuMs, maxErr };
}

async function matmulRow(ctx: GpuContext, db: TuningDb, M: number, K: number, N: number): Promise<Row> {
  const rand = mulberry32(M * 31 + K * 7 + N);
  const x = uniformF32(M * K, rand);
  const w = uniformF32(K * N, rand, 1 / Math.sqrt(K));
  const check = (y: Float32Array): number => sampledError(x, w, y, M, K, N);
  const contenders: Contender[] = [];

  const t0 = performance.now();
  const b = new GraphBuilder(`matmul_${M}x${K}x${N}`);
  b.output(b.op('matmul', [b.input('x', 'f32', [M, K]), b.initializer('w', tensor('f32', [K, N], w))], {}, { output: 'y' }));
  const { bundle } = await compileGraph(b.build(), { ctx, db });
  const ex = await Executor.create(ctx, bundle);
  const ours = await timeRuns(async () => {
    const r = await ex.run({ x });
    return { out: r.outputs.get('y') as Float32Array, gpuMs: r.gpuMs };
  }, check);
  const m = bundle.manifest;
  contenders.push({ name: 'anybit', firstMs: 0, peakBytes: m.weights.bytes + m.stats.activationBytes, ...ours });
  (contenders[0] as { firstMs: number }).firstMs = performance.now() - t0 - ours.medianMs * (REPEATS + 1);
  ex.destroy();

  const modelBytes = matmulModel(M, K, N, w);
  for (const ep of ['webgpu', 'cpu'] as const) {
    try {
      const t1 = performance.now();
      const s = await ort.InferenceSession.create(modelBytes, { executionProviders: [ep], logSeverityLevel: 3 });
      const feeds = { x: new ort.Tensor('float32', x, [M, K]) };
      const r = await timeRuns(async () => ({ out: (await s.run(feeds)).y?.data as Float32Array }), check);
      contenders.push({ name: `ort-${ep}`, firstMs: performance.now() - t1 - r.medianMs * (REPEATS + 1), peakBytes: null, ...r });
      await s.release();
    } catch (e) {
      console.error(`ort-${ep} ${M}x${K}x${N}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { case: `matmul f32 ${M}x${K} · ${K}x${N}`, flops: 2 * M * N * K, bytes: 4 * (M * K + K * N + M * N), contenders };
}

function report(device: string, roof: Roofline, rows: readonly Row[], models: readonly ModelRow[], skipped: readonly string[]): string {
  const lines = [
    `# Benchmarks on ${device}`, '',
    `Date ${new Date().toISOString().slice(0, 10)}; node ${process.version}; onnxruntime-node ${ort.env.versions.node}; ${os.cpus().length} CPU cores.`,
    `Roofline (measured): copy ${roof.copyGBs.toFixed(2)} GB/s (read + write), FMA ${roof.fmaGflops.toFixed(1)} GFLOP/s.`, '',
    'Times are medians of wall time per inference with inputs in host memory and outputs read back (the same for every contender); `gpu` is our compute pass alone (timestamp-query). Ratio = ours / peer (below 1 is faster).', '',
    '| case | contender | median ms | spread ms | gpu ms | first run ms | GB/s | % copy roof | GFLOP/s | ratio vs it |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ours = r.contenders.find((c) => c.name === 'anybit');
    for (const c of r.contenders) {
      const ms = c.gpuMs ?? c.medianMs;
      const gbs = r.bytes / (c.medianMs * 1e6);
      const ratio = ours && c !== ours ? (ours.medianMs / c.medianMs).toFixed(2) : '';
      lines.push(`| ${r.case} | ${c.name} | ${c.medianMs.toFixed(2)} | ${c.spreadMs.toFixed(2)} | ${c.gpuMs?.toFixed(2) ?? ''} | ${c.firstMs.toFixed(0)} | ${gbs.toFixed(2)} | ${((100 * gbs) / roof.copyGBs).toFixed(0)}% | ${(r.flops / (ms * 1e6)).toFixed(1)} | ${ratio} |`);
    }
  }
  if (models.length) {
    lines.push('', '## Models', '', 'Same input for every contender; each output checked against onnxruntime-node CPU (max|Δ| ≤ 1e-3·max|ref|) before its time counts. First run = compile (ours) or session creation (ort) + first inference.', '',
      '| model | contender | median ms | spread ms | gpu ms | first run ms | peak buffer bytes | rel. error | ours / it |', '|---|---|---|---|---|---|---|---|---|');
    for (const m of models) {
      const ours = m.contenders.find((c) => c.name === 'anybit');
      for (const c of m.contenders) {
        const ratio = ours && c !== ours ? (ours.medianMs / c.medianMs).toFixed(2) : '';
        lines.push(`| ${m.model} | ${c.name} | ${c.medianMs.toFixed(1)} | ${c.spreadMs.toFixed(1)} | ${c.gpuMs?.toFixed(1) ?? ''} | ${c.firstMs.toFixed(0)} | ${c.peakBytes ?? ''} | ${c.relErr.toExponential(1)} | ${ratio} |`);
      }
      if (m.error) lines.push(`| ${m.model} | note | ${m.error} | | | | | | |`);
    }
  }
  if (skipped.length) lines.push('', 'Skipped:', ...skipped.map((s) => `- ${s}`));
  return `${lines.join('\n')}\n`;
}

const ctx = await acquireDevice();
const db = TuningDb.open(defaultDbPath(ctx.fingerprint), ctx.fingerprint);
const roof = await measureRoofline(ctx);
console.log(`roofline: copy ${roof.copyGBs.toFixed(2)} GB/s, FMA ${roof.fmaGflops.toFixed(1)} GFLOP/s`);
const shapes: [string, number, number, number][] = [
  ['gemv', 1, 4096, 4096], ['gemv-mlp-up', 1, 4096, 11008], ['gemv-mlp-down', 1, 11008, 4096],
  ['gemm64', 64, 4096, 4096], ...(quick ? [] : [['gemm128', 128, 4096, 4096], ['gemm512', 512, 4096, 4096]] as [string, number, number, number][]),
];
const rows: Row[] = [];
const skipped: string[] = [];
for (const [name, M, K, N] of shapes) {
  if (only && only !== name) continue;
  let row: Row;
  try {
    row = await matmulRow(ctx, db, M, K, N);
  } catch (e) {
    console.log(`${name}: skipped (${(e as Error).message.split('\n')[0]})`);
    skipped.push(`${name} ${M}x${K}·${K}x${N}: ${(e as Error).message.split('\n')[0]}`);
    continue;
  }
  rows.push(row);
  for (const c of row.contenders) console.log(`${row.case.padEnd(34)} ${c.name.padEnd(11)} ${c.medianMs.toFixed(2).padStart(9)} ms  err ${c.maxErr.toExponential(1)}`);
}
const models: ModelRow[] = [];
if (!args.includes('--no-models')) {
  for (const [name, source] of benchModels(quick)) {
    if (only && !name.includes(only)) continue;
    try {
      const m = await modelRow(ctx, db, name, await source(), quick ? 3 : 5);
      models.push(m);
      for (const c of m.contenders) console.log(`${name.padEnd(34)} ${c.name.padEnd(11)} ${c.medianMs.toFixed(1).padStart(9)} ms  first ${c.firstMs.toFixed(0)} ms`);
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}
const dir = path.resolve('bench/results');
mkdirSync(dir, { recursive: true });
const device = ctx.fingerprint.id;
writeFileSync(path.join(dir, `${device}.json`), `${JSON.stringify({ date: new Date().toISOString(), device: ctx.fingerprint, versions: { node: process.version, ort: ort.env.versions.node }, roofline: roof, rows, models, skipped }, null, 1)}\n`);
writeFileSync(path.join(dir, `${device}.md`), report(`${ctx.fingerprint.description} (${device})`, roof, rows, models, skipped));
console.log(`wrote bench/results/${device}.md`);
await releaseDevice();
