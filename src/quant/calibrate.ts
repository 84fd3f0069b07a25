// Calibration: each matmul/gemm layer's input, from the float graph after the pre-quantization
// passes (so node names match the quantize pass's) run on samples by the float64 interpreter:
// per-channel absmax and a reservoir of ≤ maxRows rows (fixed seed). Shape-dependent models
// (.abit reshapes of T) pass a graph per sample. No GPU path yet (slow on large models).

import type { Graph } from '../ir/graph.ts';
import { bindGraph } from '../ir/bind.ts';
import type { NdArray } from '../ir/tensor.ts';
import { interpret } from '../interp/interpreter.ts';
import { passContext } from '../passes/pass.ts';
import { defaultPipeline, runPipeline } from '../passes/pipeline.ts';
import { weightLayers } from '../passes/quantize/quantize-pass.ts';
import { mulberry32 } from '../util/random.ts';
import type { ActStats } from './act-stats.ts';

export interface Calibration {
  /** Layer node name -> statistics of its input A (layers reading the same A share one object). */
  readonly layers: ReadonlyMap<string, ActStats>;
}

export type CalibrationSample = Readonly<Record<string, NdArray>>;

export const DEFAULT_CALIB_ROWS = 512;

class Reservoir {
  absmax: Float64Array;
  rows: Float64Array;
  count = 0;
  seen = 0;
  constructor(readonly K: number, readonly max: number, private readonly rand: () => number) {
    this.absmax = new Float64Array(K);
    this.rows = new Float64Array(K * max);
  }
  add(data: Float64Array): void {
    const K = this.K;
    for (let r = 0; r * K < data.length; r++) {
      const row = data.subarray(r * K, (r + 1) * K);
      for (let k = 0; k < K; k++) this.absmax[k] = Math.max(this.absmax[k] as number, Math.abs(row[k] as number));
      const slot = this.count < this.max ? this.count++ : Math.floor(this.rand() * (this.seen + 1));
      if (slot < this.max) this.rows.set(row, slot * K);
      this.seen++;
    }
  }
  stats(): ActStats {
    return { K: this.K, absmax: this.absmax, rows: this.rows.slice(0, this.count * this.K), count: this.count, seen: this.seen };
  }
}

/** The graph as the quantize pass would see it: bound to the sample's shapes, pre-quant passes run. */
export function preQuantGraph(g: Graph, sample: CalibrationSample): Graph {
  const shapes = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, [...v.shape]]));
  return runPipeline(bindGraph(g, shapes), passContext(), defaultPipeline());
}

/** `g` may be a function giving the graph for a sample (models elaborated per shape, like .abit with T). */
export function calibrate(g: Graph | ((s: CalibrationSample) => Graph), samples: readonly CalibrationSample[], o: { maxRows?: number; seed?: number } = {}): Calibration {
  const max = o.maxRows ?? DEFAULT_CALIB_ROWS;
  const rand = mulberry32(o.seed ?? 1);
  const byValue = new Map<string, Reservoir>();
  const layerValue = new Map<string, string>();
  for (const s of samples) {
    const pg = preQuantGraph(typeof g === 'function' ? g(s) : g, s);
    const layers = weightLayers(pg).filter((n) => n.op !== 'conv2d');
    const wanted = [...new Set(layers.map((n) => n.inputs[0] as string))].filter((v) => pg.values.get(v)?.dtype === 'f32');
    if (!wanted.length) continue;
    const env = interpret({ ...pg, outputs: wanted }, s);
    for (const n of layers) {
      const a = n.inputs[0] as string;
      const x = env.get(a);
      if (!x) continue;
      const K = x.shape[x.shape.length - 1] as number;
      let r = byValue.get(a);
      if (!r) byValue.set(a, (r = new Reservoir(K, max, rand)));
      if (r.K !== K) throw new Error(`calibrate: layer '${n.name}' input '${a}' changed width between samples (${r.K} vs ${K})`);
      if (layerValue.get(n.name) === undefined) {
        layerValue.set(n.name, a);
      }
    }
    for (const a of wanted) byValue.get(a)?.add(env.get(a)?.data as Float64Array);
  }
  const stats = new Map([...byValue].map(([v, r]) => [v, r.stats()]));
  return { layers: new Map([...layerValue].map(([n, v]) => [n, stats.get(v) as ActStats])) };
}
