// The benchmark suite: our kernels against onnxruntime-node (webgpu and cpu providers) on the
// same adapter, in the same run, with the same inputs, warm-up and synchronisation (inputs in
// host memory, outputs read back). Every contender's output is checked before its time counts.
//   npx tsx bench/suite.ts [--quick] [--only NAME] [--no-models] [--no-ort] [--budget-s S] [--out DIR]
// Writes <out>/<device>.md and .json after every row. `runSuite` is what `anybit bench` and the
// device bundle (scripts/device-pack.sh) run; a row in progress is never interrupted. As a program
// it sets MESA_SHADER_CACHE_DISABLE=true unless already set, so every first run compiles cold.

import { realpathSync, renameSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileGraph } from '../src/compile/compile.ts';
import { GraphBuilder } from '../src/ir/builder.ts';
import { tensor } from '../src/ir/tensor.ts';
import { acquireDevice, releaseDevice, type GpuContext } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { TuningDb, defaultDbPath } from '../src/tuner/index.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { matmulModel } from './onnx-models.ts';
import { matmulF16Row } from './matmul-f16.ts';
import { decoderRows } from './decoder.ts';
import { benchModels, modelRow, sampledError, timed, type ModelRow } from './models.ts';
import { coldShaderCache, shaderCacheNote } from './first-run.ts';
import { loadOrt, type Ort } from './ort.ts';
import { reportJson, reportMarkdown, type Contender, type Row, type SuiteReport } from './report.ts';
import { measureRoofline } from './roofline.ts';
import { parseSuiteArgs, type SuiteOptions } from './suite-options.ts';

export interface SuiteResult {
  readonly report: SuiteReport;
  /** The .md and .json files written. */
  readonly files: readonly string[];
}

async function timeRuns(repeats: number, run: () => Promise<{ out: Float32Array; gpuMs?: number | null }>, check: (y: Float32Array) => number): Promise<Omit<Contender, 'name' | 'firstMs' | 'peakBytes'>> {
  let maxErr = NaN;
  const r = await timed(repeats, run, (out) => {
    maxErr = check(out);
    if (!(maxErr <= 1e-3)) throw new Error(`output check failed: relative error ${maxErr}`);
  });
  return { medianMs: r.medianMs, spreadMs: r.spreadMs, gpuMs: r.gpuMs, maxErr };
}

async function matmulRow(ctx: GpuContext, db: TuningDb, ort: Ort | null, repeats: number, M: number, K: number, N: number, log: (line: string) => void): Promise<Row> {
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
  const ours = await timeRuns(repeats, async () => {
    const r = await ex.run({ x });
    return { out: r.outputs.get('y') as Float32Array, gpuMs: r.gpuMs };
  }, check);
  const m = bundle.manifest;
  const firstMs = performance.now() - t0 - ours.medianMs * (repeats + 1);
  contenders.push({ name: 'anybit', firstMs, peakBytes: m.weights.bytes + m.stats.activationBytes, ...ours });
  ex.destroy();

  const modelBytes = ort ? matmulModel(M, K, N, w) : null;
  for (const ep of ort && modelBytes ? (['webgpu', 'cpu'] as const) : []) {
    try {
      const t1 = performance.now();
      const s = await (ort as Ort).InferenceSession.create(modelBytes as Uint8Array, { executionProviders: [ep], logSeverityLevel: 3 });
      const feeds = { x: new (ort as Ort).Tensor('float32', x, [M, K]) };
      const r = await timeRuns(repeats, async () => ({ out: (await s.run(feeds)).y?.data as Float32Array }), check);
      contenders.push({ name: `ort-${ep}`, firstMs: performance.now() - t1 - r.medianMs * (repeats + 1), peakBytes: null, ...r });
      await s.release();
    } catch (e) {
      log(`ort-${ep} ${M}x${K}x${N}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { case: `matmul f32 ${M}x${K} · ${K}x${N}`, flops: 2 * M * N * K, bytes: 4 * (M * K + K * N + M * N), contenders };
}

function writeReplacing(file: string, text: string): void {
  writeFileSync(`${file}.tmp-${process.pid}`, text);
  renameSync(`${file}.tmp-${process.pid}`, file);
}

/** The adapter as the suite sees it: fingerprint (features, limits) and WGSL language features. */
export async function probeAdapter(): Promise<{ fingerprint: GpuContext['fingerprint']; wgslFeatures: string[]; hasTimestamps: boolean }> {
  const ctx = await acquireDevice();
  return { fingerprint: ctx.fingerprint, wgslFeatures: [...(ctx.info.wgslFeatures ?? [])].sort(), hasTimestamps: ctx.hasTimestamps };
}

/** Runs the suite on the process-wide device (left acquired; the caller releases it). */
export async function runSuite(o: SuiteOptions, log: (line: string) => void = (l) => console.log(l)): Promise<SuiteResult> {
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;
  const ctx = await acquireDevice();
  const db = TuningDb.open(defaultDbPath(ctx.fingerprint), ctx.fingerprint);
  const skipped: string[] = [];
  let ort: Ort | null = null;
  if (o.ort) {
    const loaded = await loadOrt();
    ort = loaded.ort;
    if (loaded.error !== null) {
      log(loaded.error);
      skipped.push(`peers: ${loaded.error}`);
    }
  } else {
    skipped.push('peers: onnxruntime-node not used (--no-ort)');
  }
  const repeats = o.quick ? 3 : 7;
  const roofline = await measureRoofline(ctx);
  log(`${ctx.fingerprint.description} (${ctx.fingerprint.id}); features ${ctx.fingerprint.features.join(' ') || 'none'}`);
  log(`roofline: copy ${roofline.copyGBs.toFixed(2)} GB/s, FMA ${roofline.fmaGflops.toFixed(1)} GFLOP/s`);

  const rows: Row[] = [];
  const models: ModelRow[] = [];
  mkdirSync(o.outDir, { recursive: true });
  const files = [path.join(o.outDir, `${ctx.fingerprint.id}.md`), path.join(o.outDir, `${ctx.fingerprint.id}.json`)];
  const snapshot = (complete: boolean): SuiteReport => ({ device: ctx.fingerprint, ortVersion: ort?.env.versions.node ?? null, roofline, rows, models, skipped, elapsedS: elapsedS(), complete, shaderCache: shaderCacheNote() });
  const save = (complete: boolean): void => {
    const r = snapshot(complete);
    writeReplacing(files[0] as string, reportMarkdown(r));
    writeReplacing(files[1] as string, reportJson(r));
  };
  const budgetSpent = (what: string): boolean => {
    if (o.budgetS === null || elapsedS() < o.budgetS) return false;
    skipped.push(`${what}: time budget (--budget-s ${o.budgetS}) spent`);
    return true;
  };

  const shapes: [string, number, number, number][] = [
    ['gemv', 1, 4096, 4096], ['gemv-mlp-up', 1, 4096, 11008], ['gemv-mlp-down', 1, 11008, 4096],
    ['gemm64', 64, 4096, 4096], ...(o.quick ? [] : [['gemm128', 128, 4096, 4096], ['gemm512', 512, 4096, 4096]] as [string, number, number, number][]),
    // f16 kernel rows (bench/matmul-f16.ts); `--only f16` selects them all.
    ['gemv-f16', 1, 4096, 4096], ['gemv-mlp-up-f16', 1, 4096, 11008], ['gemv-mlp-down-f16', 1, 11008, 4096],
    ['gemm64-f16', 64, 4096, 4096], ...(o.quick ? [] : [['gemm128-f16', 128, 4096, 4096], ['gemm512-f16', 512, 4096, 4096]] as [string, number, number, number][]),
  ];
  for (const [name, M, K, N] of shapes) {
    const f16 = name.endsWith('-f16');
    if (o.only !== null && o.only !== name && !(f16 && o.only === 'f16')) continue;
    if (budgetSpent(`${name} ${M}x${K}·${K}x${N}`)) continue;
    // A peer that fails or fails its output check is listed under "Skipped" with its reason.
    const peerFailed = (line: string): void => {
      log(line);
      skipped.push(line);
    };
    try {
      const row = f16 ? await matmulF16Row(ctx, ort, repeats, M, K, N, peerFailed) : await matmulRow(ctx, db, ort, repeats, M, K, N, peerFailed);
      rows.push(row);
      for (const c of row.contenders) log(`${row.case.padEnd(34)} ${c.name.padEnd(11)} ${c.medianMs.toFixed(2).padStart(9)} ms  err ${c.maxErr.toExponential(1)}`);
    } catch (e) {
      log(`${name}: skipped (${(e as Error).message.split('\n')[0]})`);
      skipped.push(`${name} ${M}x${K}·${K}x${N}: ${(e as Error).message.split('\n')[0]}`);
    }
    save(false);
  }
  if (o.models) {
    for (const [name, source] of benchModels(o.quick, o)) {
      if (o.only !== null && !name.includes(o.only)) continue;
      if (budgetSpent(name)) continue;
      if (!ort) {
        skipped.push(`${name}: needs onnxruntime-node as its reference`);
        continue;
      }
      try {
        const m = await modelRow(ctx, db, name, await source(), o.quick ? 3 : 5, ort);
        models.push(m);
        for (const c of m.contenders) log(`${name.padEnd(34)} ${c.name.padEnd(11)} ${c.medianMs.toFixed(1).padStart(9)} ms  first ${c.firstMs.toFixed(0)} ms`);
      } catch (e) {
        log(`${name}: skipped (${(e as Error).message.split('\n')[0]})`);
        skipped.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
      }
      save(false);
    }
    // Multi-input and compressed rows (bench/decoder.ts); a compressed row cites a float row above.
    for (const row of decoderRows(o.quick, o)) {
      if (o.only !== null && !row.name.includes(o.only)) continue;
      if (budgetSpent(row.name)) continue;
      if (!ort) {
        skipped.push(`${row.name}: needs onnxruntime-node as its reference`);
        continue;
      }
      try {
        const m = await row.run({ ctx, db, ort, repeats: o.quick ? 3 : 5, done: models });
        models.push(m);
        for (const c of m.contenders) log(`${row.name} | ${c.name.padEnd(16)} ${c.medianMs.toFixed(1).padStart(9)} ms  first ${c.firstMs.toFixed(0)} ms  err ${c.relErr.toExponential(1)}`);
      } catch (e) {
        log(`${row.name}: skipped (${(e as Error).message.split('\n')[0]})`);
        skipped.push(`${row.name}: ${(e as Error).message.split('\n')[0]}`);
      }
      save(false);
    }
  }
  save(true);
  log(`wrote ${files.join(' and ')} (${elapsedS().toFixed(0)} s)`);
  return { report: snapshot(true), files };
}

/** `npx tsx bench/suite.ts ...` or the bundled .device/suite.mjs: exit 0 ok, 2 bad flags, 3 no adapter. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    const o = parseSuiteArgs(argv);
    // Before any WebGPU instance or ORT session: every contender's first run compiles cold.
    coldShaderCache();
    if (o.probe) console.log(JSON.stringify(await probeAdapter(), null, 1));
    else await runSuite(o);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`bench: ${err.name === 'UserError' || err.name === 'NoAdapterError' ? '' : 'error: '}${err.message}`);
    if (err.name !== 'UserError' && err.name !== 'NoAdapterError') console.error(err.stack);
    return err.name === 'UserError' ? 2 : err.name === 'NoAdapterError' ? 3 : 1;
  } finally {
    await releaseDevice();
  }
}

/** Whether this module is the program (not imported by `anybit bench` or a test). */
function isEntry(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await main(process.argv.slice(2));
