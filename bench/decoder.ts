// Benchmark rows beyond the single-input models of models.ts: a LLaMA-shaped decoder layer
// (examples/llama-layer.abit, random weights) as a decode step over a KV cache and as a prefill,
// and compressed configs (decoder W4 g128 / W4A8, RLFN x4 W8 / W4) that only anybit runs.
// Float rows compare against onnxruntime-node (webgpu, cpu) on our ONNX export, like modelRow;
// a compressed row is checked against its float equivalent (src/quant/fake-quant.ts exported to
// ONNX, run by ort-cpu) and carries the float row's times as references for the ratio column.

import { existsSync } from 'node:fs';
import { loadAbitModel } from '../dsl/program.ts';
import { loadModel } from '../src/cli/model-io.ts';
import { compileGraph } from '../src/compile/compile.ts';
import { bindGraph } from '../src/ir/bind.ts';
import type { Graph } from '../src/ir/graph.ts';
import { exportOnnx } from '../src/onnx/export.ts';
import { exportFakeQuantOnnx } from '../src/onnx/export-fake-quant.ts';
import type { QuantizeOptions } from '../src/passes/quantize/quantize-pass.ts';
import { dequantizeGraph } from '../src/quant/fake-quant.ts';
import type { GpuContext } from '../src/runtime/device.ts';
import type { TuningDb } from '../src/tuner/db.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { randomWeights } from '../src/weights/random.ts';
import { rotary } from '../scripts/llama-kv.ts';
import { samplesNote, timedWithin, type ModelContender, type ModelPaths, type ModelRow, type Timing } from './models.ts';
import { executorFromDisk } from './first-run.ts';
import type { Ort } from './ort.ts';

/** A graph with every input's data and the peers' ONNX model of it. */
export interface GraphSource {
  readonly graph: Graph;
  readonly onnx: Uint8Array;
  readonly feeds: ReadonlyMap<string, Float32Array>;
}

export interface RowEnv {
  readonly ctx: GpuContext;
  readonly db: TuningDb | null;
  readonly ort: Ort;
  readonly repeats: number;
  /** Rows finished earlier in this run (a compressed row's float references). */
  readonly done: readonly ModelRow[];
}

export interface BenchRow {
  readonly name: string;
  run(env: RowEnv): Promise<ModelRow>;
}

/** Layer shape: d model width, hidden the SwiGLU width, past the KV cache length, prefill tokens. */
export interface DecoderShape { readonly d: number; readonly hidden: number; readonly heads: number; readonly kvHeads: number; readonly past: number; readonly prefill: number }

/** LLaMA-7B proportions (hd 64, hidden ≈ 2.75 d, a multiple of 128) at a width lavapipe runs in seconds. */
export function decoderShape(quick: boolean): DecoderShape {
  return quick ? { d: 512, hidden: 1408, heads: 8, kvHeads: 8, past: 128, prefill: 32 } : { d: 1024, hidden: 2816, heads: 16, kvHeads: 16, past: 128, prefill: 128 };
}

const TOLERANCE = 1e-3;
/**
 * With activation quantization, f32 rounding differences (ours on the GPU, ORT's f32 Div) flip a
 * code at a near-tie now and then; one flip moves an output by about scale_a·|w|, ~5e-4 of max|y|
 * at d 1024 and 8 bits (measured 6.4e-4 on the decode step), so a few flips must still pass.
 */
const ACT_TOLERANCE = 5e-3;
const WEIGHT_SEED = 1;

/** Row names: the shape is part of the name, so --only can pick a form or a config by substring. */
export function decoderNames(s: DecoderShape): { decode: string; prefill: string } {
  const base = `LLaMA-shaped decoder layer d${s.d} h${s.heads}${s.kvHeads !== s.heads ? ` kv${s.kvHeads}` : ''} ffn${s.hidden}`;
  return { decode: `${base}, decode step (KV ${s.past})`, prefill: `${base}, ${s.prefill}-token prefill` };
}

/** The layer in one of its forms with seeded random weights and inputs (positions after the cache). */
export function decoderSource(s: DecoderShape, form: 'decode' | 'prefill'): GraphSource {
  const hd = s.d / s.heads;
  const T = form === 'decode' ? 1 : s.prefill;
  const shapes: Record<string, number[]> = form === 'decode'
    ? { past_k: [s.kvHeads, 1, s.past, hd], past_v: [s.kvHeads, 1, s.past, hd] } : { x: [T, s.d], mask: [T, T] };
  const { graph } = loadAbitModel('examples/llama-layer.abit', {
    model: form === 'decode' ? 'llama_layer_decode' : 'llama_layer', set: { d: s.d, hidden: s.hidden, heads: s.heads, kv_heads: s.kvHeads },
    inputShapes: shapes, weights: randomWeights(WEIGHT_SEED),
  });
  const rand = mulberry32(T * 131 + s.d);
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  const first = form === 'decode' ? s.past : 0;
  for (let t = 0; t < T; t++) {
    const r = rotary(first + t, hd);
    cos.set(r.cos, t * hd);
    sin.set(r.sin, t * hd);
  }
  const feeds = new Map<string, Float32Array>([['x', uniformF32(T * s.d, rand)], ['cos', cos], ['sin', sin], ['rot', rotary(0, hd).rot]]);
  if (form === 'decode') {
    feeds.set('past_k', uniformF32(s.kvHeads * s.past * hd, rand));
    feeds.set('past_v', uniformF32(s.kvHeads * s.past * hd, rand));
    feeds.set('mask', new Float32Array(s.past + 1));
  } else {
    const mask = new Float32Array(T * T);
    for (let r = 0; r < T; r++) for (let c = r + 1; c < T; c++) mask[r * T + c] = -1e9;
    feeds.set('mask', mask);
  }
  return { graph, onnx: exportOnnx(graph), feeds };
}

/** RLFN x4 from its checkpoint at 1x3xSxS, input in [0, 1) (modelRow's image input). */
export async function rlfnSource(paths: ModelPaths, size: number): Promise<GraphSource> {
  if (!existsSync(paths.rlfnWeights)) throw new Error(`model file not found: ${paths.rlfnWeights}`);
  const shapes = { x: [1, 3, size, size] };
  const graph = bindGraph(await loadModel('examples/rlfn.abit', shapes, { weights: paths.rlfnWeights }), shapes);
  const x = uniformF32(3 * size * size, mulberry32(7)).map((v) => (v + 1) / 2);
  return { graph, onnx: exportOnnx(graph), feeds: new Map([['x', x]]) };
}

const shapeOf = (g: Graph, v: string): number[] => [...(g.values.get(v)?.shape as number[])];

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Worst over the graph's outputs (laid end to end in `out`) of max|Δ| / max|ref|. */
function relErr(g: Graph, out: Float32Array, ref: Float32Array): number {
  if (out.length !== ref.length) return Infinity;
  let worst = 0;
  let o = 0;
  for (const v of g.outputs) {
    const n = shapeOf(g, v).reduce((a, b) => a * b, 1);
    let d = 0;
    let m = 1e-30;
    for (let i = o; i < o + n; i++) {
      d = Math.max(d, Math.abs((out[i] as number) - (ref[i] as number)));
      m = Math.max(m, Math.abs(ref[i] as number));
    }
    worst = Math.max(worst, d / m);
    o += n;
  }
  return worst;
}

/** An onnxruntime session over `onnx`, timed (session creation counted in firstMs) or, with check null, run once. */
async function ortRun(env: RowEnv, src: GraphSource, onnx: Uint8Array, provider: string, check: ((out: Float32Array) => void) | null): Promise<Timing> {
  const { ort } = env;
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(onnx, { executionProviders: [provider], logSeverityLevel: 3 });
  const createMs = performance.now() - t0;
  try {
    const feeds = Object.fromEntries(src.graph.inputs.map((v) => [v, new ort.Tensor('float32', src.feeds.get(v) as Float32Array, shapeOf(src.graph, v))]));
    const once = async (): Promise<{ out: Float32Array }> => {
      const r = await s.run(feeds);
      return { out: concat(src.graph.outputs.map((v) => r[v]?.data as Float32Array)) };
    };
    if (check === null) return { out: (await once()).out, firstMs: 0, medianMs: NaN, spreadMs: NaN, gpuMs: null, samples: 0 };
    const r = await timedWithin(env.repeats, once, check);
    return { ...r, firstMs: r.firstMs + createMs };
  } finally {
    await s.release();
  }
}

/** Throws (the row is skipped) when `out` is further than `tol` from `ref`; returns the error. */
function checker(g: Graph, ref: () => Float32Array, tol: number, what: string): { check: (out: Float32Array) => void; err: () => number } {
  let e = NaN;
  return {
    check: (out) => {
      e = relErr(g, out, ref());
      if (!(e <= tol)) throw new Error(`${what}: ${e.toExponential(2)} > ${tol}`);
    },
    err: () => e,
  };
}

/**
 * Ours through compileGraph (quantized when asked). `reference` gets the optimized graph (what a
 * compressed row's reference is built from) before anything runs; the first output is checked
 * against it before any time counts.
 */
async function oursRun(env: RowEnv, src: GraphSource, reference: (g: Graph) => Promise<Float32Array>, tol: number, quantize?: QuantizeOptions): Promise<{ t: Timing; err: number; peakBytes: number; weightBytes: number; compileMs: number }> {
  const t0 = performance.now();
  const r = await compileGraph(src.graph, { ctx: env.ctx, db: env.db, ...(quantize ? { quantize } : {}) });
  const compileMs = performance.now() - t0;
  const ref = await reference(r.graph);
  // As in modelRow: the first run starts from the bundle on disk; compiling is reported apart.
  const { ex, startMs } = await executorFromDisk(env.ctx, r.bundle);
  try {
    const c = checker(src.graph, () => ref, tol, 'anybit output differs from the reference');
    const t = await timedWithin(env.repeats, async () => {
      const out = await ex.run(src.feeds);
      return { out: concat(src.graph.outputs.map((v) => out.outputs.get(v) as Float32Array)), gpuMs: out.gpuMs };
    }, c.check);
    const m = r.bundle.manifest;
    return { t: { ...t, firstMs: t.firstMs + startMs }, err: c.err(), peakBytes: m.weights.bytes + m.stats.activationBytes, weightBytes: m.weights.bytes, compileMs };
  } finally {
    ex.destroy();
  }
}

const contender = (name: string, t: Timing, peakBytes: number | null, e: number, compileMs?: number): ModelContender =>
  ({ name, firstMs: t.firstMs, ...(compileMs !== undefined ? { compileMs } : {}), medianMs: t.medianMs, spreadMs: t.spreadMs, gpuMs: t.gpuMs, peakBytes, relErr: e });

/** A float row: ort-cpu (the reference), anybit, ort-webgpu; each output checked before its time counts. */
export async function floatRow(env: RowEnv, name: string, src: GraphSource, about = ''): Promise<ModelRow> {
  const ref = await ortRun(env, src, src.onnx, 'cpu', () => undefined);
  const ours = await oursRun(env, src, async () => ref.out, TOLERANCE);
  const contenders = [contender('anybit', ours.t, ours.peakBytes, ours.err, ours.compileMs), contender('ort-cpu', ref, null, 0)];
  const timings: [string, Timing][] = [['anybit', ours.t], ['ort-cpu', ref]];
  let error: string | undefined;
  try {
    const c = checker(src.graph, () => ref.out, TOLERANCE, 'output differs from ort-cpu');
    const w = await ortRun(env, src, src.onnx, 'webgpu', c.check);
    contenders.push(contender('ort-webgpu', w, null, c.err()));
    timings.push(['ort-webgpu', w]);
  } catch (err) {
    error = `ort-webgpu: ${(err as Error).message.split('\n')[0]}`;
  }
  const note = [about, samplesNote(env.repeats, timings.map(([n, t]) => [n, t.samples]))].filter((x) => x).join('; ');
  return { model: name, contenders, ...(error ? { error } : {}), ...(note ? { note } : {}) };
}

/**
 * A compressed row: anybit alone (peers cannot run our packed ops), checked against the same
 * quantized model as float ops on ort-cpu; the float row `floatName` (if it ran) lends its
 * contenders, renamed "<name> (f32)", so the ratio column reads compressed / float.
 */
export async function compressedRow(env: RowEnv, name: string, src: GraphSource, quantize: QuantizeOptions, floatName: string): Promise<ModelRow> {
  const tol = quantize.actBits ? ACT_TOLERANCE : TOLERANCE;
  const fakeQuant = async (g: Graph): Promise<Float32Array> => (await ortRun(env, src, exportFakeQuantOnnx(dequantizeGraph(g)), 'cpu', null)).out;
  const ours = await oursRun(env, src, fakeQuant, tol, quantize);
  const float = await ortRun(env, src, src.onnx, 'cpu', null);
  const lossy = relErr(src.graph, ours.t.out, float.out);
  const base = env.done.find((m) => m.model === floatName);
  const refs = (base?.contenders ?? []).map((c) => ({ ...c, name: `${c.name} (f32)` }));
  const floatBytes = [...src.graph.initializers.values()].reduce((n, t) => n + 4 * t.data.length, 0);
  const note = [`rel. error is vs the same quantized model as float ops on ort-cpu (tolerance ${tol}); vs the float model ${lossy.toExponential(1)}`,
    `weights ${ours.weightBytes} B vs ${floatBytes} B f32`, base ? `(f32) rows copied from '${floatName}'` : `float row '${floatName}' did not run`,
    samplesNote(env.repeats, [['anybit', ours.t.samples]])].filter((x) => x).join('; ');
  return { model: name, contenders: [contender('anybit', ours.t, ours.peakBytes, ours.err, ours.compileMs), ...refs], note };
}

/** The suite's rows from this file, in run order (float rows before the compressed ones that cite them). */
export function decoderRows(quick: boolean, paths: ModelPaths): BenchRow[] {
  const s = decoderShape(quick);
  const n = decoderNames(s);
  // rtn: the time is the same for any method, and the MSE search would only lengthen first-run time.
  const W4: QuantizeOptions = { bits: 4, group: 128, method: 'rtn' };
  const W4A8: QuantizeOptions = { ...W4, actBits: 8 };
  const rows: BenchRow[] = [
    { name: n.decode, run: (env) => floatRow(env, n.decode, decoderSource(s, 'decode'), `one token through the layer; the ${s.past}-token K/V caches are inputs (uploaded each step by every contender); outputs y, new_k, new_v`) },
    { name: n.prefill, run: (env) => floatRow(env, n.prefill, decoderSource(s, 'prefill'), `${s.prefill} tokens, causal mask; output y only (K/V rows are not outputs)`) },
  ];
  for (const [label, q] of [['W4 g128', W4], ['W4A8 g128', W4A8]] as const) {
    for (const form of ['decode', 'prefill'] as const) {
      const name = `${n[form]} ${label}`;
      rows.push({ name, run: (env) => compressedRow(env, name, decoderSource(s, form), q, n[form]) });
    }
  }
  if (!quick) {
    const rlfn = 'RLFN x4 1x3x256x256';
    // convBits: the pass would otherwise keep convs at 8 bits or more (its accuracy floor).
    for (const bits of [8, 4]) {
      const name = `${rlfn} W${bits} g128`;
      rows.push({ name, run: async (env) => compressedRow(env, name, await rlfnSource(paths, 256), { bits, convBits: bits, group: 128, method: 'rtn' }, rlfn) });
    }
  }
  return rows;
}
