// Shared machinery of scripts/quant-accuracy.ts: the configurations of the table, a quantized model
// as fake-quantized ONNX (the product's quantize pass, then src/quant/fake-quant.ts, then
// onnxruntime-node CPU), and the agreement metrics. Every quantization decision (which layers,
// groups, grids) is the pass's; this file only re-expresses its result in float ops.

import * as ort from 'onnxruntime-node';
import type { Graph } from '../src/ir/graph.ts';
import type { NdArray } from '../src/ir/tensor.ts';
import { exportOnnx } from '../src/onnx/export.ts';
import { exportFakeQuantOnnx } from '../src/onnx/export-fake-quant.ts';
import { passContext } from '../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../src/passes/pipeline.ts';
import { weightLayers, type QuantizeOptions } from '../src/passes/quantize/quantize-pass.ts';
import type { ActStats } from '../src/quant/act-stats.ts';
import { DEFAULT_CALIB_ROWS, preQuantGraph, type Calibration } from '../src/quant/calibrate.ts';
import { dequantizeGraph } from '../src/quant/fake-quant.ts';

export interface QuantConfig {
  readonly label: string;
  readonly bits: number;
  /** Quantization group along K; 0 = per output channel. */
  readonly group: number;
  readonly bitBalance?: boolean;
  /** Per-token activation bits (WxAy); absent = weight-only (A16/f32). */
  readonly actBits?: number;
  /** Keep every conv2d float (only MatMul/Gemm layers quantized), as `--keep` would. */
  readonly floatConvs?: boolean;
  /** Convs at the product's default width (max(bits, 8)) instead of `bits`, as plain `--bits N` does. */
  readonly defaultConvs?: boolean;
}

/** What plain `--bits 4` gives a CNN: matmuls at 4 bits, convs at the 8-bit floor. */
export const DEFAULT_POLICY_CONFIG: QuantConfig = { label: 'W4 g128, convs W8 (plain --bits 4)', bits: 4, group: 128, defaultConvs: true };

/** Extra rows for models with quantized MatMuls: the convs kept float. */
export const FLOAT_CONV_CONFIGS: readonly QuantConfig[] = [
  { label: 'W4 g128, convs float', bits: 4, group: 128, floatConvs: true },
  { label: 'W3 g128, convs float', bits: 3, group: 128, floatConvs: true },
  { label: 'W4A8 g128, convs float', bits: 4, group: 128, actBits: 8, floatConvs: true },
  DEFAULT_POLICY_CONFIG,
];

/** A keep pattern matching `name` only: a '?' for its first '.' makes it an anchored glob. */
export const exactly = (name: string): string => (name.includes('.') ? name.replace('.', '?') : name);

const convNamesCache = new WeakMap<Graph, string[]>();

/** keep patterns for every conv2d weight layer of `g` (as the quantize pass names them). */
function convKeep(g: Graph): string[] {
  let names = convNamesCache.get(g);
  if (!names) {
    names = weightLayers(runPipeline(g, passContext(), defaultPipeline())).filter((n) => n.op === 'conv2d').map((n) => exactly(n.name));
    convNamesCache.set(g, names);
  }
  return names;
}

const WEIGHT_ONLY: readonly [string, number, boolean][] = [['W8', 8, false], ['W6', 6, false], ['W5', 5, false], ['W4', 4, false], ['W3', 3, false], ['W2*', 2, true]];

export const CONFIGS: readonly QuantConfig[] = [
  ...WEIGHT_ONLY.flatMap(([name, bits, bb]) => [
    { label: `${name} g128`, bits, group: 128, ...(bb ? { bitBalance: true } : {}) },
    { label: `${name} per-channel`, bits, group: 0, ...(bb ? { bitBalance: true } : {}) },
  ]),
  { label: 'W8A8 g128', bits: 8, group: 128, actBits: 8 },
  { label: 'W4A8 g128', bits: 4, group: 128, actBits: 8 },
];

export type Method = 'rtn' | 'best';

/** What one quantized model turned into, for the table's notes. */
export interface FakeQuantModel {
  readonly onnx: Uint8Array;
  readonly convs: number;
  readonly matmuls: number;
  /** Activation sites from the pass (quantize_act) and simulated here (conv inputs). */
  readonly actSites: number;
  readonly simulatedSites: number;
  readonly method: string;
}

/** The float model as ONNX (same pipeline minus quantization, so only quantization differs). */
export function floatOnnx(g: Graph): Uint8Array {
  return exportOnnx(runPipeline(g, passContext(), defaultPipeline()));
}

/** `g` quantized by the product's pass under `c` / `method`, as fake-quantized ONNX. */
export function fakeQuantOnnx(g: Graph, c: QuantConfig, method: Method, extra: Partial<QuantizeOptions> = {}, calib?: Calibration): FakeQuantModel {
  // best = the MSE clipping search; for WxAy layers with calibration data, 'smooth' (which also
  // clips by calibrated output MSE). The pass puts its own quantize_act on the matmuls; convs stay
  // weight-only there, so dequantizeGraph simulates theirs.
  const smooth = !!c.actBits && method === 'best' && calib !== undefined;
  const opts: QuantizeOptions = {
    ...extra, ...(c.floatConvs ? { keep: [...(extra.keep ?? []), ...convKeep(g)] } : {}), bits: c.bits, ...(c.defaultConvs ? {} : { convBits: c.bits }), group: c.group, method: method === 'rtn' ? 'rtn' : smooth ? 'smooth' : 'mse',
    ...(c.actBits ? { actBits: c.actBits } : {}), ...(c.bitBalance ? { bitBalance: true } : {}), ...(smooth ? { calibration: calib } : {}),
  };
  const q = runPipeline(g, passContext(), defaultPipeline(opts));
  const fq = dequantizeGraph(q, { simulateActBits: c.actBits ?? 0 });
  const simulated = fq.sites.filter((s) => s.simulated).length;
  return { onnx: exportFakeQuantOnnx(fq), convs: fq.convs, matmuls: fq.matmuls, actSites: fq.sites.length - simulated, simulatedSites: simulated, method: opts.method ?? 'mse' };
}

/** An onnxruntime CPU session over one fixed-shape input. */
export class OrtModel {
  private constructor(private readonly s: ort.InferenceSession) {}

  static async create(bytes: Uint8Array): Promise<OrtModel> {
    return new OrtModel(await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' }));
  }

  async run(x: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    const r = await this.s.run({ [this.s.inputNames[0] as string]: new ort.Tensor('float32', x, [...shape]) });
    return Float32Array.from((r[this.s.outputNames[0] as string] as ort.Tensor).data as Float32Array);
  }

  async release(): Promise<void> {
    await this.s.release();
  }
}

/**
 * Runs `bytes` (input shape `shape`, batch shape[0]) on every one-item input of `xs`: items are
 * stacked into batches (the last one padded by repeating its final item); one output per item.
 */
export async function runAll(bytes: Uint8Array, xs: readonly Float32Array[], shape: readonly number[]): Promise<Float32Array[]> {
  const m = await OrtModel.create(bytes);
  const B = shape[0] as number;
  const item = (xs[0] as Float32Array).length;
  const out: Float32Array[] = [];
  for (let i = 0; i < xs.length; i += B) {
    const x = new Float32Array(B * item);
    for (let b = 0; b < B; b++) x.set(xs[Math.min(i + b, xs.length - 1)] as Float32Array, b * item);
    const y = await m.run(x, shape);
    const per = y.length / B;
    for (let b = 0; b < B && i + b < xs.length; b++) out.push(y.slice(b * per, (b + 1) * per));
  }
  await m.release();
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs((a[i] as number) - (b[i] as number));
  return d / a.length;
}

/** IoU of {a > t} and {b > t}; 1 when both are empty. */
export function binaryIoU(a: ArrayLike<number>, b: ArrayLike<number>, t: number): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const p = (a[i] as number) > t;
    const q = (b[i] as number) > t;
    if (p && q) inter++;
    if (p || q) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if ((a[i] as number) > (a[best] as number)) best = i;
  return best;
}

export const pct = (x: number): string => `${(100 * x).toFixed(x === 1 ? 0 : 1)}%`;
export const sci = (x: number): string => (x === 0 ? '0' : x.toExponential(1));

/** Levenshtein distance between two strings, by code point. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[y.length] as number;
}

/**
 * calibrate() (src/quant/calibrate.ts) with onnxruntime instead of the float64 interpreter: the
 * inputs of the MatMul/Gemm weight layers of the pre-quantization graph over all samples (one
 * input each), every row kept (so at most DEFAULT_CALIB_ROWS rows, else it throws: no sampling).
 */
export async function calibrateOrt(g: Graph, samples: readonly NdArray[]): Promise<Calibration> {
  const byValue = new Map<string, number[][]>();
  const layerValue = new Map<string, string>();
  for (const s of samples) {
    const pg = preQuantGraph(g, { [g.inputs[0] as string]: s });
    const layers = weightLayers(pg).filter((n) => n.op !== 'conv2d');
    for (const n of layers) layerValue.set(n.name, n.inputs[0] as string);
    const wanted = [...new Set(layers.map((n) => n.inputs[0] as string))];
    const sess = await ort.InferenceSession.create(exportOnnx({ ...pg, outputs: wanted }), { executionProviders: ['cpu'] });
    const r = await sess.run({ [sess.inputNames[0] as string]: new ort.Tensor('float32', Float32Array.from(s.data), [...s.shape]) });
    for (const v of wanted) {
      const t = r[v] as ort.Tensor;
      const K = t.dims[t.dims.length - 1] as number;
      const data = t.data as Float32Array;
      let rows = byValue.get(v);
      if (!rows) byValue.set(v, (rows = []));
      for (let i = 0; i * K < data.length; i++) rows.push(Array.from(data.subarray(i * K, (i + 1) * K)));
    }
    await sess.release();
  }
  const stats = new Map<string, ActStats>();
  for (const [v, rows] of byValue) {
    if (rows.length > DEFAULT_CALIB_ROWS) throw new Error(`calibrateOrt: ${rows.length} rows for '${v}' exceed ${DEFAULT_CALIB_ROWS} (use fewer samples)`);
    const K = (rows[0] as number[]).length;
    const absmax = new Float64Array(K);
    for (const row of rows) row.forEach((x, k) => { absmax[k] = Math.max(absmax[k] as number, Math.abs(x)); });
    stats.set(v, { K, absmax, rows: Float64Array.from(rows.flat()), count: rows.length, seen: rows.length });
  }
  return { layers: new Map([...layerValue].map(([n, v]) => [n, stats.get(v) as ActStats])) };
}
