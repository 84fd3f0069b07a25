// Per-dispatch profile of a benchmark-suite model, for whoever optimizes kernels: compiles it
// (tuning database if present, else defaults), warms it up (lavapipe compiles each kernel at its
// first dispatch), then times every dispatch alone over --runs runs (median per dispatch), and
// prints the slowest dispatches and the totals by kernel template and by op (fused ops joined).
//   npx tsx scripts/profile-model.ts <ppocr-cls|ppocr-rec|ppocr-det320|ppocr-det640|rlfn|llama-decode|llama-prefill> [--runs N] [--top N] [--json]

import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_PATHS, benchModels } from '../bench/models.ts';
import { decoderShape, decoderSource } from '../bench/decoder.ts';
import { compileGraph } from '../src/compile/compile.ts';
import type { Graph } from '../src/ir/graph.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { aggregateProfile, formatDispatchTable, formatGroupTable, type DispatchProfile } from '../src/runtime/profile.ts';
import { TuningDb, defaultDbPath } from '../src/tuner/index.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';

type Source = () => Promise<{ graph: Graph; feeds?: ReadonlyMap<string, Float32Array> }>;

function suiteModel(prefix: string): Source {
  return async () => {
    const entry = benchModels(false, DEFAULT_MODEL_PATHS).find(([name]) => name.startsWith(prefix));
    if (!entry) throw new Error(`no suite model named '${prefix}...'`);
    return entry[1]();
  };
}

const MODELS: Record<string, Source> = {
  'ppocr-cls': suiteModel('PP-OCRv4 cls'),
  'ppocr-rec': suiteModel('PP-OCRv4 rec'),
  'ppocr-det320': suiteModel('PP-OCRv4 det 1x3x320x320'),
  'ppocr-det640': suiteModel('PP-OCRv4 det 1x3x640x640'),
  rlfn: suiteModel('RLFN x4'),
  'llama-decode': async () => decoderSource(decoderShape(true), 'decode'),
  'llama-prefill': async () => decoderSource(decoderShape(true), 'prefill'),
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '5' }, top: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } } });
  const name = positionals[0] ?? '';
  const source = MODELS[name];
  const runs = Number(values.runs);
  const top = Number(values.top);
  if (!source || !(runs >= 1) || !(top >= 1)) throw new Error(`usage: profile-model.ts <${Object.keys(MODELS).join('|')}> [--runs N] [--top N] [--json]`);
  const ctx = await acquireDevice();
  try {
    const src = await source();
    const db = TuningDb.open(defaultDbPath(ctx.fingerprint), ctx.fingerprint);
    const { graph, bundle } = await compileGraph(src.graph, { ctx, db });
    const feeds = new Map(src.feeds ?? []);
    for (const v of graph.inputs) {
      if (feeds.has(v)) continue;
      const n = (graph.values.get(v)?.shape as number[]).reduce((a, b) => a * b, 1);
      feeds.set(v, uniformF32(n, mulberry32(7)));
    }
    const ex = await Executor.create(ctx, bundle);
    try {
      const first = performance.now();
      await ex.run(feeds);
      const firstMs = performance.now() - first;
      const whole: number[] = [];
      for (let i = 0; i < runs; i++) whole.push((await ex.run(feeds)).gpuMs ?? NaN);
      const samples: DispatchProfile[][] = [];
      let timing = 'timestamp';
      for (let i = 0; i < runs; i++) {
        const p = await ex.profile(feeds);
        samples.push([...p.dispatches]);
        timing = p.timing;
      }
      const dispatches = (samples[0] as DispatchProfile[]).map((d, i) => ({ ...d, ms: median(samples.map((s) => (s[i] as DispatchProfile).ms)) }));
      const opOf = new Map(graph.nodes.map((n) => [n.name, n.op]));
      const opsKey = (d: DispatchProfile): string => d.nodes.map((n) => opOf.get(n) ?? '?').join('+');
      const byTemplate = aggregateProfile(dispatches, (d) => d.template);
      const byOp = aggregateProfile(dispatches, opsKey);
      if (values.json) {
        console.log(JSON.stringify({ model: name, device: ctx.fingerprint.id, timing, runs, firstRunMs: firstMs, wholeRunGpuMs: median(whole), dispatches: dispatches.map((d) => ({ ...d, ops: opsKey(d) })), byTemplate, byOp }, null, 1));
        return;
      }
      const sum = dispatches.reduce((s, d) => s + d.ms, 0);
      console.log(`${name}: ${bundle.manifest.dispatches.length} dispatches, ${bundle.manifest.kernels.length} distinct kernels on ${ctx.fingerprint.description}`);
      console.log(`per-dispatch ${timing} times, median of ${runs} runs; sum ${sum.toFixed(2)} ms vs whole run ${median(whole).toFixed(2)} ms GPU (one pass); first run (incl. driver compiles) ${firstMs.toFixed(0)} ms`);
      console.log('');
      for (const l of formatDispatchTable(dispatches, top)) console.log(l);
      console.log('');
      for (const l of formatGroupTable(byTemplate, 'template')) console.log(l);
      console.log('');
      for (const l of formatGroupTable(byOp, 'ops')) console.log(l);
    } finally {
      ex.destroy();
    }
  } finally {
    await releaseDevice();
  }
}

try {
  await main();
} catch (e) {
  console.error(`profile-model: ${(e as Error).message}`);
  process.exitCode = 1;
}
