// Fake quantization: a quantized graph rewritten into float ops computing the same thing, for fast
// float runtimes (onnxruntime CPU): matmul_nbits / conv2d_nbits become matmul / conv2d over their
// dequantized weights (the ops' reference semantics); activation quantization becomes an identity
// ActSite that src/onnx/export-fake-quant.ts rounds (the interpreter runs it as an identity).

import type { Graph, Node } from '../ir/graph.ts';
import { intsAttr, numberAttr, producers } from '../ir/graph.ts';
import { nbitsAttrs } from '../ir/ops/matmul-nbits.ts';
import { tensor, type Tensor } from '../ir/tensor.ts';
import { quantizeMatrix, type WeightQuantOptions } from '../passes/quantize/quantizer.ts';
import { GraphEdit } from '../passes/simplify/pattern-util.ts';
import { quantizeActRow } from './act.ts';
import { dequantize, type QuantizedWeight } from './format.ts';

/** W[N, K] replaced by its dequantized values under `o` (what a quantized layer multiplies by). */
export function fakeQuantWeight(w: ArrayLike<number>, N: number, K: number, o: WeightQuantOptions): Float64Array {
  return dequantize(quantizeMatrix(w, N, K, o).weight);
}

/** Rows x[rows * K] through per-token quantize-dequantize at `bits` (quantizeActRow's grid). */
export function fakeQuantActRows(x: ArrayLike<number>, rows: number, K: number, bits: number): Float64Array {
  const out = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    const q = quantizeActRow(Array.prototype.slice.call(x, r * K, (r + 1) * K) as number[], bits);
    for (let k = 0; k < K; k++) out[r * K + k] = q.scale * ((q.codes[k] as number) - q.zero);
  }
  return out;
}

/** One activation quant-dequant point: `output` = fakeQuant(`input`) over `axis`, one grid per slice. */
export interface ActSite {
  /** The identity node standing for it. */
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly bits: number;
  /** Axis the grid spans: -1 for matmul rows (tokens), 1 for conv channels (one grid per pixel). */
  readonly axis: number;
  /** True when added here (simulate option), false when the graph had a quantize_act. */
  readonly simulated: boolean;
}

export interface FakeQuantGraph {
  readonly graph: Graph;
  readonly sites: readonly ActSite[];
  /** Quantized layers rewritten, by kind. */
  readonly matmuls: number;
  readonly convs: number;
}

export interface DequantizeOptions {
  /**
   * Activation bits to simulate at the f32 input of every quantized layer that has none (convs,
   * whose kernels are weight-only, and matmuls of a pass without activation quantization); 0: none.
   */
  readonly simulateActBits?: number;
}

function packedWeight(g: Graph, n: Node): QuantizedWeight & { readonly actBits: number } {
  const [, words, scales, zeros] = n.inputs;
  const get = (v: string | undefined, what: string): Tensor => {
    const t = v ? g.initializers.get(v) : undefined;
    if (!t) throw new Error(`fake-quant: node '${n.name}' (${n.op}) has no constant ${what}`);
    return t;
  };
  return {
    ...nbitsAttrs(n.attrs), words: Uint32Array.from(get(words, 'words').data),
    scales: Float32Array.from(get(scales, 'scales').data), zeros: Float32Array.from(get(zeros, 'zeros').data),
  };
}

/** The float graph a quantized graph stands for (see the file header). */
export function dequantizeGraph(g: Graph, o: DequantizeOptions = {}): FakeQuantGraph {
  const edit = new GraphEdit(g);
  const prod = producers(g);
  const sites = new Map<string, ActSite>();
  let matmuls = 0;
  let convs = 0;
  /** The value to read instead of `x` (a new site's identity node goes into `before`). */
  const siteFor = (x: string, bits: number, axis: number, simulated: boolean, before: Node[]): string => {
    const key = `${x}|${bits}|${axis}`;
    let s = sites.get(key);
    if (!s) {
      const type = g.values.get(x);
      if (!type) throw new Error(`fake-quant: value '${x}' has no type`);
      s = { node: edit.freshNode(`${x}.fake_a${bits}`), input: x, output: edit.addValue(`${x}.fake_a${bits}`, type), bits, axis, simulated };
      sites.set(key, s);
      before.push({ name: s.node, op: 'identity', inputs: [x], outputs: [s.output], attrs: {} });
    }
    return s.output;
  };
  const simulate = o.simulateActBits ?? 0;
  for (const n of g.nodes) {
    if (n.op === 'quantize_act') {
      edit.replace(n, [n], []);
      continue;
    }
    if (n.op !== 'matmul_nbits' && n.op !== 'conv2d_nbits') continue;
    const w = packedWeight(g, n);
    const deq = dequantize(w);
    const [a, , , , bias] = n.inputs as [string, string, string, string, string?];
    const out = n.outputs[0] as string;
    const nodes: Node[] = [];
    if (n.op === 'conv2d_nbits') {
      const [kH, kW] = intsAttr(n.attrs, 'kernel_shape', [1, 1]) as [number, number];
      const wc = edit.addConst(`${n.name}.w_fq`, tensor('f32', [w.N, w.K / (kH * kW), kH, kW], Float32Array.from(deq)));
      const x = simulate ? siteFor(a, simulate, 1, true, nodes) : a;
      nodes.push({
        name: n.name, op: 'conv2d', inputs: [x, wc, ...(bias ? [bias] : [])], outputs: n.outputs,
        attrs: {
          strides: intsAttr(n.attrs, 'strides', [1, 1]), pads: intsAttr(n.attrs, 'pads', [0, 0, 0, 0]),
          dilations: intsAttr(n.attrs, 'dilations', [1, 1]), group: numberAttr(n.attrs, 'groups', 1),
        },
      });
      convs++;
    } else {
      const wt = new Float32Array(w.K * w.N);
      for (let r = 0; r < w.N; r++) for (let k = 0; k < w.K; k++) wt[k * w.N + r] = deq[r * w.K + k] as number;
      const wk = edit.addConst(`${n.name}.w_fq`, tensor('f32', [w.K, w.N], wt));
      let x = a;
      if (w.actBits > 0) {
        const qa = prod.get(a);
        if (qa?.op !== 'quantize_act') throw new Error(`fake-quant: node '${n.name}' has act_bits=${w.actBits} but A is not a quantize_act output`);
        x = siteFor(qa.inputs[0] as string, w.actBits, -1, false, nodes);
      } else if (simulate) x = siteFor(a, simulate, -1, true, nodes);
      const type = g.values.get(out);
      if (!type) throw new Error(`fake-quant: value '${out}' has no type`);
      const mm = bias ? edit.addValue(`${out}.nobias`, type) : out;
      nodes.push({ name: n.name, op: 'matmul', inputs: [x, wk], outputs: [mm], attrs: {} });
      if (bias) nodes.push({ name: edit.freshNode(`${n.name}.bias`), op: 'add', inputs: [mm, bias], outputs: [out], attrs: {} });
      matmuls++;
    }
    edit.replace(n, [n], nodes.map((m) => (n.loc ? { ...m, loc: n.loc } : m)));
  }
  const graph = edit.apply();
  const read = new Set<string>([...graph.outputs, ...graph.nodes.flatMap((n) => n.inputs)]);
  const initializers = new Map([...graph.initializers].filter(([k]) => read.has(k)));
  const values = new Map([...graph.values].filter(([k]) => !graph.initializers.has(k) || read.has(k)));
  return { graph: { ...graph, initializers, values }, sites: [...sites.values()], matmuls, convs };
}
