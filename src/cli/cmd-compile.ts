// `anybit compile` and `anybit tune`: build a bundle from a model (optionally tuning first),
// or re-tune an existing bundle from the graph stored inside it and rewrite it atomically.

import { compileGraph, type CompileResult } from '../compile/compile.ts';
import { writeBundle } from '../bundle/write.ts';
import { printGraph } from '../ir/print.ts';
import type { GpuContext } from '../runtime/device.ts';
import { loadBundle } from '../runtime/bundle-loader.ts';
import { Executor } from '../runtime/executor.ts';
import { TuningDb, defaultDbPath } from '../tuner/index.ts';
import { summarize } from '../tuner/measure.ts';
import { UserError } from './errors.ts';
import { gpu, type Out } from './context.ts';
import { graphOfBundle, loadModel, parseShapeSpecs } from './model-io.ts';
import { progressBar } from './progress.ts';
import type { Graph } from '../ir/graph.ts';
import type { QuantizeOptions } from '../passes/quantize/quantize-pass.ts';
import { compressionRatio, layerLabel, quantLayers, quantizeOptionsOf, withModelData, type QuantFlags } from './quant-cli.ts';

function budgetOf(s: string): number {
  const b = Number(s);
  if (!Number.isFinite(b) || b <= 0) throw new UserError(`--budget '${s}': expected a positive number of seconds`);
  return b;
}

function candidatesOf(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--candidates '${s}': expected a positive integer`);
  return n;
}

async function build(g: Graph, inputShapes: Record<string, number[]>, ctx: GpuContext | null, o: { tune: boolean; budget: number; candidates: number; db?: string | undefined; force?: boolean; quantize?: QuantizeOptions | undefined }, out: Out): Promise<CompileResult> {
  const db = ctx ? TuningDb.open(o.db ?? defaultDbPath(ctx.fingerprint), ctx.fingerprint) : null;
  const bar = progressBar(!out.json, 'tuning');
  try {
    return await compileGraph(g, {
      inputShapes, ctx, db, ...(o.quantize ? { quantize: o.quantize } : {}),
      tune: o.tune ? { budgetSec: o.budget, maxCandidates: o.candidates, force: !!o.force, onProgress: (d, t, l) => bar.update(d, t, l) } : null,
    });
  } finally {
    bar.stop();
  }
}

async function save(dir: string, r: CompileResult): Promise<void> {
  await writeBundle(dir, r.bundle, { 'model.abir': printGraph(r.graph, { data: false }) });
}

function summary(r: CompileResult, dir: string, ms: number): Record<string, unknown> {
  const m = r.bundle.manifest;
  return {
    bundle: dir, model: m.model, nodes: r.graph.nodes.length, dispatches: m.dispatches.length, kernels: m.kernels.length,
    weightBytes: m.stats.weightBytes, activationBytes: m.stats.activationBytes, unplannedActivationBytes: m.stats.unplannedActivationBytes,
    flops: m.stats.flops, tunedFor: m.tunedFor?.id ?? null, selection: r.selection, compileMs: Math.round(ms),
  };
}

export async function cmdCompile(model: string, o: { output: string; input: string[]; tune?: boolean; budget: string; candidates: string; db?: string; json?: boolean; weights?: string; set?: string[] } & QuantFlags, out: Out): Promise<void> {
  const t0 = performance.now();
  const budget = budgetOf(o.budget);
  const shapes = parseShapeSpecs(o.input);
  const quantize = quantizeOptionsOf(o);
  const g = await loadModel(model, shapes, { weights: o.weights, set: o.set });
  const ctx = await gpu(!o.tune);
  const q = quantize && withModelData(quantize, o, g);
  const r = await build(g, shapes, ctx, { tune: !!o.tune, budget, candidates: candidatesOf(o.candidates), db: o.db, quantize: q }, out);
  await save(o.output, r);
  const s = summary(r, o.output, performance.now() - t0);
  out.log(`compiled ${r.graph.name}: ${s.nodes} nodes -> ${s.dispatches} dispatches (${s.kernels} kernels), weights ${s.weightBytes} B, activations ${s.activationBytes} B (unplanned ${s.unplannedActivationBytes} B)`);
  out.log(`kernels: ${r.selection.fromDb} tuned from the database, ${r.selection.defaults} defaults${o.tune ? `; tuned ${r.selection.tuned} problems (${r.selection.candidatesTimed} candidates timed, ${r.selection.candidatesRejected} rejected)` : ''}`);
  const layers = quantLayers(r.graph);
  const cr = compressionRatio(r.graph, r.bundle.manifest);
  if (quantize) out.log(`quantized ${layers.length} layer(s) (${[...new Set(layers.map(layerLabel))].join(', ') || 'none eligible'}); weights ${cr.bytes} B vs ${cr.floatBytes} B float (${cr.ratio.toFixed(2)}x smaller)`);
  if (quantize) for (const l of layers) out.log(`  ${l.node.padEnd(28)} ${layerLabel(l).padEnd(16)} ${l.layout}`);
  out.log(`wrote ${o.output} in ${s.compileMs} ms`);
  out.result(quantize ? { ...s, quantized: layers, compression: cr } : s);
}

async function latency(ctx: GpuContext, dir: string, runs: number): Promise<number> {
  const bundle = await loadBundle(dir);
  const ex = await Executor.create(ctx, bundle);
  try {
    const inputs = new Map(bundle.manifest.inputs.map((i) => [i.name, new Float32Array(i.ref.bytes / 4).fill(0.5)]));
    await ex.run(inputs);
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await ex.run(inputs);
      t.push(r.gpuMs ?? r.wallMs);
    }
    return summarize(t).medianMs;
  } finally {
    ex.destroy();
  }
}

export async function cmdTune(dir: string, o: { budget: string; candidates: string; db?: string; force?: boolean; json?: boolean }, out: Out): Promise<void> {
  const budget = budgetOf(o.budget);
  const bundle = await loadBundle(dir);
  const g = await graphOfBundle(dir, bundle);
  const shapes = Object.fromEntries(bundle.manifest.inputs.map((i) => [i.name, [...i.shape]]));
  const ctx = (await gpu(false)) as GpuContext;
  const before = await latency(ctx, dir, 15);
  const r = await build(g, shapes, ctx, { tune: true, budget, candidates: candidatesOf(o.candidates), db: o.db, force: !!o.force }, out);
  await save(dir, r);
  const after = await latency(ctx, dir, 15);
  out.log(`tuned ${r.selection.tuned} kernel problems (${r.selection.candidatesTimed} candidates timed, ${r.selection.candidatesRejected} rejected${r.selection.budgetExhausted ? ', budget exhausted' : ''})`);
  out.log(`latency (median GPU time): before ${before.toFixed(3)} ms, after ${after.toFixed(3)} ms (${(before / after).toFixed(2)}x)`);
  out.result({ bundle: dir, selection: r.selection, beforeMs: before, afterMs: after, device: ctx.fingerprint.id });
}
