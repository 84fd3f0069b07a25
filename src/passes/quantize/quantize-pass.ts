// The quantization pass: gemm/matmul with a constant weight -> matmul_nbits over packed W (with
// act_bits, fed by one quantize_act per A); conv2d -> conv2d_nbits (quantize-conv.ts, weight-only;
// depthwise stays float). Settings per layer (policy.ts); 'smooth' first rescales on calibration
// data (smooth-plan.ts). Kept layers (by default on CNN-like graphs, the ends) stay float.

import type { Graph, Node } from '../../ir/graph.ts';
import { numberAttr } from '../../ir/graph.ts';
import { tensor, type Tensor } from '../../ir/tensor.ts';
import { actRowWords } from '../../quant/act.ts';
import { absQuantiles, gram, type ActStats } from '../../quant/act-stats.ts';
import type { Calibration } from '../../quant/calibrate.ts';
import type { PackedLayout } from '../../quant/format.ts';
import type { Pass, PassContext } from '../pass.ts';
import { GraphEdit, viewOf, type GraphView } from '../simplify/pattern-util.ts';
import { resolveLayer, type LayerMethod, type LayerSettings, type PartialSettings, type QuantPolicy } from './policy.ts';
import { quantizeConv } from './quantize-conv.ts';
import { quantizeMatrix } from './quantizer.ts';
import { smoothPhase } from './smooth-plan.ts';

export interface QuantizeOptions {
  readonly bits: number;
  /** Group size along K (default 128); 0 = per output channel. */
  readonly group?: number;
  /** Default: symmetric at 4+ bits, asymmetric below (a 3- or 1-level-short grid costs too much). */
  readonly symmetric?: boolean;
  /** Default 'mse' (the clipping search; never worse than 'rtn' in weight MSE; output MSE with
   *  calibration). 'smooth' = activation-aware scaling (needs calibration) + calibrated 'mse'. */
  readonly method?: LayerMethod;
  readonly bitBalance?: boolean;
  readonly layout?: PackedLayout;
  /** Node or weight names that stay float: globs with `*`/`?`, else substrings. */
  readonly keep?: readonly string[];
  /** Keep the first and last weight layers float; default: when the graph has a conv2d. */
  readonly keepEnds?: boolean;
  /** Bits of conv2d layers that no policy rule or annotation sets; default max(bits, 8). */
  readonly convBits?: number;
  /** 0 (default): f32 activations; 2..8: per-token activation quantization (WxAy). */
  readonly actBits?: number;
  /** Input statistics per layer (src/quant/calibrate.ts): 'smooth', and output-MSE clipping. */
  readonly calibration?: Calibration;
  /** Policy file rules (policy.ts); they override `annotations` and these defaults. */
  readonly policy?: QuantPolicy;
  /** DSL `@quant` / `@keep` settings by node name. */
  readonly annotations?: ReadonlyMap<string, PartialSettings>;
  /** α grid for 'smooth' (default smooth.ts's SMOOTH_ALPHAS). */
  readonly smoothAlphas?: readonly number[];
}

export const DEFAULT_GROUP = 128;
/**
 * Convs take at least this many bits unless asked otherwise (`convBits`, a policy rule, an
 * annotation): without calibration, PP-OCRv4 rec at W6 convs already misreads 6% of text lines
 * and at W4 every line, while 8-bit convs change nothing measurable (docs/quant-accuracy.md).
 */
export const DEFAULT_CONV_BITS_FLOOR = 8;

/** Weight layers in graph order: nodes whose weight operand (input 1) is an initializer. */
export function weightLayers(g: Graph): Node[] {
  return g.nodes.filter((n) => (n.op === 'gemm' || n.op === 'matmul' || n.op === 'conv2d') && g.initializers.has(n.inputs[1] ?? ''));
}

export interface Candidate {
  readonly a: string;
  readonly wName: string;
  /** W as [N, K] row-major. */
  readonly nk: Float64Array;
  readonly N: number;
  readonly K: number;
  /** W was stored [K, N] and transposed into `nk`. */
  readonly transposed: boolean;
  readonly bias: string | Tensor | null;
}

/** The operands of a quantizable node, or a reason it stays float. */
export function candidateOf(v: GraphView, n: Node): Candidate | string {
  const [a, wName, c] = n.inputs;
  const w = v.f32Const(wName);
  const sa = v.shape(a ?? '');
  if (!a || !wName || !w || w.shape.length !== 2 || !sa || sa.length < 2 || v.g.values.get(a)?.dtype !== 'f32') return 'needs f32 A of rank >= 2 and a constant 2-D f32 weight';
  const [r, s] = w.shape as [number, number];
  const data = w.data;
  const transposed = (): Float64Array => {
    const out = new Float64Array(r * s);
    for (let i = 0; i < r; i++) for (let j = 0; j < s; j++) out[j * r + i] = data[i * s + j] as number;
    return out;
  };
  if (n.op === 'matmul') return { a, wName, nk: transposed(), N: s, K: r, transposed: true, bias: null };
  if (numberAttr(n.attrs, 'transA', 0) !== 0 || numberAttr(n.attrs, 'alpha', 1) !== 1) return 'gemm with transA or alpha != 1';
  const transB = numberAttr(n.attrs, 'transB', 0) !== 0;
  const N = transB ? r : s;
  let bias: string | Tensor | null = null;
  if (c) {
    if (numberAttr(n.attrs, 'beta', 1) !== 1) return 'gemm with beta != 1';
    const sc = v.shape(c);
    const ct = v.f32Const(c);
    if (!sc || sc.length > 2 || sc.some((d, i) => d !== (i === sc.length - 1 ? N : 1))) return 'gemm bias is not one row of N';
    if (sc.length === 1) bias = c;
    else if (ct) bias = tensor('f32', [N], ct.data);
    else return 'gemm bias [1, N] is not a constant';
  }
  return { a, wName, nk: transB ? Float64Array.from(data) : transposed(), N, K: transB ? s : r, transposed: !transB, bias };
}

/** The group a WxAy layer can use: the popcount/dot4 kernels need group % 32 == 0 or one group per row. */
export function actGroup(group: number, K: number): number {
  if (group <= 0 || group >= K) return K;
  const g = Math.ceil(group / 32) * 32;
  return g >= K ? K : g;
}

/** Settings of each weight layer by node name ('keep' = stays float); bad merges go to diag as errors. */
function layerSettings(layers: readonly Node[], o: QuantizeOptions, ctx: PassContext): Map<string, LayerSettings | 'keep'> {
  const cnnLike = layers.some((n) => n.op === 'conv2d');
  const ends = (o.keepEnds ?? cnnLike) ? new Set([layers[0]?.name, layers[layers.length - 1]?.name]) : new Set<string>();
  const cli: LayerSettings = { bits: o.bits, group: o.group ?? DEFAULT_GROUP, actBits: o.actBits ?? 0, method: o.method ?? 'mse', symmetric: o.symmetric, bitBalance: !!o.bitBalance };
  const convBits = o.convBits ?? Math.max(o.bits, DEFAULT_CONV_BITS_FLOOR);
  const cliConv: LayerSettings = { ...cli, bits: convBits, bitBalance: convBits === 2 && cli.bitBalance };
  const out = new Map<string, LayerSettings | 'keep'>();
  for (const n of layers) {
    const r = ends.has(n.name) ? 'keep' : resolveLayer(n.op === 'conv2d' ? cliConv : cli, o.keep ?? [], o.policy, { node: n.name, weight: n.inputs[1] ?? '', annotation: o.annotations?.get(n.name) });
    if (typeof r === 'object' && 'error' in r) {
      ctx.diag.push({ severity: 'error', pass: 'quantize', node: n.name, message: r.error });
      out.set(n.name, 'keep');
    } else out.set(n.name, r);
  }
  return out;
}

const fmt = (x: number): string => x.toPrecision(3);

export function quantizePass(o: QuantizeOptions): Pass {
  return {
    name: 'quantize',
    run(g0: Graph, ctx: PassContext) {
      const settings = layerSettings(weightLayers(g0), o, ctx);
      const settingsFor = (n: Node): LayerSettings | 'keep' => settings.get(n.name) ?? 'keep';
      // Calibration statistics by layer; smoothing rewrites the graph and rescales them.
      const layerStats = new Map<string, ActStats>(o.calibration?.layers ?? []);
      const smooth = smoothPhase(g0, settingsFor, layerStats, o, ctx);
      const g = smooth.graph;
      const v = viewOf(g);
      const edit = new GraphEdit(g);
      const layers = weightLayers(g);
      const stats = { quantized: 0, kept: 0, float: 0, convFloat: 0, floatWeightBytes: 0, packedBytes: 0, actQuantized: 0, calibrated: 0, smoothed: smooth.smoothed, smoothMuls: smooth.muls };
      const done = new Map<string, { words: string; scales: string; zeros: string; levels: number; bits: number; group: number }>();
      const actNodes = new Map<string, string>();
      const grams = new WeakMap<ActStats, Float64Array>();
      const reported = new Set<ActStats>();
      // Calibrated activation ranges by layer input (what the pass saw, after smoothing).
      const actRanges: Record<string, number> = {};
      for (const n of layers) {
        const st = settingsFor(n);
        if (n.op === 'conv2d') {
          // conv2d -> conv2d_nbits (quantize-conv.ts); the ends and `keep` matches stay float, as below.
          const keptConv = st === 'keep';
          const r = st === 'keep' ? 'kept' : quantizeConv(v, edit, n, {
            bits: st.bits, group: st.group, symmetric: st.symmetric ?? st.bits >= 4, method: st.method === 'rtn' ? 'rtn' : 'mse', bitBalance: st.bitBalance, layout: o.layout ?? 'dense',
          });
          if (r === 'kept' || keptConv) stats.kept++;
          else if (typeof r === 'string') {
            stats.convFloat++;
            ctx.diag.push({ severity: 'note', pass: 'quantize', node: n.name, message: `stays float: ${r}` });
          } else {
            stats.quantized++;
            stats.floatWeightBytes += r.floatBytes;
            stats.packedBytes += r.packedBytes;
          }
          continue;
        }
        if (st === 'keep') {
          stats.kept++;
          continue;
        }
        const cand = candidateOf(v, n);
        if (typeof cand === 'string') {
          stats.float++;
          ctx.diag.push({ severity: 'note', pass: 'quantize', node: n.name, message: `stays float: ${cand}` });
          continue;
        }
        const act = st.actBits > 0;
        const layout: PackedLayout = act ? (st.actBits === 8 ? 'dense' : 'planes') : (o.layout ?? 'dense');
        const group = act ? actGroup(st.group, cand.K) : st.group;
        if (act && group !== (st.group <= 0 || st.group >= cand.K ? cand.K : st.group)) {
          ctx.diag.push({ severity: 'note', pass: 'quantize', node: n.name, message: `group ${st.group} -> ${group < cand.K ? group : 'per-channel'}: W${st.bits}A${st.actBits} kernels need groups that are multiples of 32` });
        }
        const xs = layerStats.get(n.name);
        const useCalib = !!xs && xs.K === cand.K && xs.count > 0 && st.method !== 'rtn';
        if (xs && xs.count > 0 && !reported.has(xs)) {
          reported.add(xs);
          const [p99, p999] = absQuantiles(xs, [0.99, 0.999]);
          const am = xs.absmax.reduce((a, b) => Math.max(a, b), 0);
          ctx.diag.push({ severity: 'note', pass: 'quantize', node: n.name, message: `input '${cand.a}': |x| absmax ${fmt(am)}, p99.9 ${fmt(p999 ?? 0)}, p99 ${fmt(p99 ?? 0)} (${xs.count} of ${xs.seen} calibration rows sampled)` });
          actRanges[`absmax:${cand.a}`] = am;
          actRanges[`p99.9:${cand.a}`] = p999 ?? 0;
        }
        let hessian: Float64Array | undefined;
        if (useCalib && xs) {
          hessian = grams.get(xs) ?? gram(xs);
          grams.set(xs, hessian);
          stats.calibrated++;
        }
        // A weight read by two layers (same orientation and settings) is packed once.
        const key = [cand.wName, cand.transposed ? 'T' : 'N', st.bits, group, st.symmetric, st.method, st.bitBalance, layout, useCalib ? cand.a : ''].join('|');
        let q = done.get(key);
        if (!q) {
          const qm = quantizeMatrix(cand.nk, cand.N, cand.K, {
            bits: st.bits, group, symmetric: st.symmetric ?? st.bits >= 4, method: st.method === 'rtn' ? 'rtn' : 'mse',
            bitBalance: st.bitBalance, layout, hessian,
          });
          const w = qm.weight;
          q = {
            words: edit.addConst(`${cand.wName}.q${w.bits}`, tensor('u32', [w.words.length], w.words)),
            scales: edit.addConst(`${cand.wName}.scales`, tensor('f32', [w.N, w.scales.length / w.N], w.scales)),
            zeros: edit.addConst(`${cand.wName}.zeros`, tensor('f32', [w.N, w.zeros.length / w.N], w.zeros)),
            levels: qm.levels, bits: w.bits, group: w.group,
          };
          done.set(key, q);
          stats.floatWeightBytes += cand.N * cand.K * 4;
          stats.packedBytes += (w.words.length + w.scales.length + w.zeros.length) * 4;
        }
        const bias = cand.bias === null ? [] : [typeof cand.bias === 'string' ? cand.bias : edit.addConst(`${n.name}.bias`, cand.bias)];
        const pre: Node[] = [];
        let a = cand.a;
        if (act) {
          // Layers reading the same A at the same width (Q, K and V projections) share one quantize_act.
          const ak = `${cand.a}|${st.actBits}|${layout}`;
          let qa = actNodes.get(ak);
          if (!qa) {
            const sa = v.shape(cand.a) as readonly number[];
            qa = edit.addValue(`${cand.a}.qa${st.actBits}`, { dtype: 'u32', shape: [...sa.slice(0, -1), actRowWords(cand.K, st.actBits, layout)] });
            actNodes.set(ak, qa);
            pre.push({ name: edit.freshNode(`${cand.a}.quantize_act${st.actBits}`), op: 'quantize_act', inputs: [cand.a], outputs: [qa], attrs: { bits: st.actBits, layout } });
          }
          a = qa;
          stats.actQuantized++;
        }
        edit.replace(n, [n], [...pre, {
          name: n.name, op: 'matmul_nbits', inputs: [a, q.words, q.scales, q.zeros, ...bias], outputs: n.outputs,
          attrs: { N: cand.N, K: cand.K, bits: q.bits, group: q.group, layout, levels: q.levels, ...(act ? { act_bits: st.actBits, act_layout: layout } : {}) },
          ...(n.loc ? { loc: n.loc } : {}),
        }]);
        stats.quantized++;
      }
      if (stats.convFloat) ctx.diag.push({ severity: 'note', pass: 'quantize', message: `${stats.convFloat} conv2d layer(s) stay float (depthwise or non-constant weight)` });
      if (!edit.count) return { graph: smooth.changed ? dropUnread(g) : g, changed: smooth.changed, stats: { ...stats, ...actRanges } };
      return { graph: dropUnread(edit.apply()), changed: true, stats: { ...stats, ...actRanges } };
    },
  };
}

/** Removes initializers no node reads and no output names (the replaced float weights). */
function dropUnread(g: Graph): Graph {
  const read = new Set<string>([...g.outputs, ...g.nodes.flatMap((n) => n.inputs)]);
  const initializers = new Map([...g.initializers].filter(([k]) => read.has(k)));
  const values = new Map([...g.values].filter(([k]) => !g.initializers.has(k) || read.has(k)));
  return { ...g, initializers, values };
}
