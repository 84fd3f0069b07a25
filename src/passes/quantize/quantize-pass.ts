// The weight-quantization pass: gemm(A, W[N,K] const, transB=1) and matmul(A, W[K,N] const)
// (transposed first) become matmul_nbits over packed W; float weights left unread are dropped.
// Layers whose node or weight name matches a `keep` pattern stay float, as do (by default, on
// CNN-like graphs) the first and last weight layers. conv2d stays float in this version.

import type { Graph, Node } from '../../ir/graph.ts';
import { numberAttr } from '../../ir/graph.ts';
import { tensor, type Tensor } from '../../ir/tensor.ts';
import type { PackedLayout } from '../../quant/format.ts';
import type { Pass, PassContext } from '../pass.ts';
import { GraphEdit, viewOf, type GraphView } from '../simplify/pattern-util.ts';
import { quantizeMatrix, type QuantMethod } from './quantizer.ts';

export interface QuantizeOptions {
  readonly bits: number;
  /** Group size along K (default 128); 0 = per output channel. */
  readonly group?: number;
  /** Default: symmetric at 4+ bits, asymmetric below (a 3- or 1-level-short grid costs too much). */
  readonly symmetric?: boolean;
  /** Default 'mse' (the clipping search; never worse than 'rtn' in weight MSE). */
  readonly method?: QuantMethod;
  readonly bitBalance?: boolean;
  readonly layout?: PackedLayout;
  /** Node or weight names that stay float: globs with `*`/`?`, else substrings. */
  readonly keep?: readonly string[];
  /** Keep the first and last weight layers float; default: when the graph has a conv2d. */
  readonly keepEnds?: boolean;
}

export const DEFAULT_GROUP = 128;

function matches(name: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return name.includes(pattern);
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** Weight layers in graph order: nodes whose weight operand (input 1) is an initializer. */
export function weightLayers(g: Graph): Node[] {
  return g.nodes.filter((n) => (n.op === 'gemm' || n.op === 'matmul' || n.op === 'conv2d') && g.initializers.has(n.inputs[1] ?? ''));
}

interface Candidate {
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
function candidateOf(v: GraphView, n: Node): Candidate | string {
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

export function quantizePass(o: QuantizeOptions): Pass {
  return {
    name: 'quantize',
    run(g: Graph, ctx: PassContext) {
      const v = viewOf(g);
      const edit = new GraphEdit(g);
      const layers = weightLayers(g);
      const cnnLike = layers.some((n) => n.op === 'conv2d');
      const ends = (o.keepEnds ?? cnnLike) ? new Set([layers[0], layers[layers.length - 1]]) : new Set<Node>();
      const stats = { quantized: 0, kept: 0, float: 0, convFloat: 0, floatWeightBytes: 0, packedBytes: 0 };
      const done = new Map<string, { words: string; scales: string; zeros: string; levels: number; bits: number; group: number }>();
      for (const n of layers) {
        if (n.op === 'conv2d') {
          stats.convFloat++;
          continue;
        }
        if (ends.has(n) || (o.keep ?? []).some((p) => matches(n.name, p) || matches(n.inputs[1] ?? '', p))) {
          stats.kept++;
          continue;
        }
        const cand = candidateOf(v, n);
        if (typeof cand === 'string') {
          stats.float++;
          ctx.diag.push({ severity: 'note', pass: 'quantize', node: n.name, message: `stays float: ${cand}` });
          continue;
        }
        // A weight read by two layers (and in the same orientation) is packed once.
        const key = `${cand.wName}|${cand.transposed ? 'T' : 'N'}`;
        let q = done.get(key);
        if (!q) {
          const group = o.group ?? DEFAULT_GROUP;
          const qm = quantizeMatrix(cand.nk, cand.N, cand.K, {
            bits: o.bits, group, symmetric: o.symmetric ?? o.bits >= 4, method: o.method ?? 'mse',
            bitBalance: !!o.bitBalance, layout: o.layout ?? 'dense',
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
        edit.replace(n, [n], [{
          name: n.name, op: 'matmul_nbits', inputs: [cand.a, q.words, q.scales, q.zeros, ...bias], outputs: n.outputs,
          attrs: { N: cand.N, K: cand.K, bits: q.bits, group: q.group, layout: o.layout ?? 'dense', levels: q.levels },
          ...(n.loc ? { loc: n.loc } : {}),
        }]);
        stats.quantized++;
      }
      if (stats.convFloat) ctx.diag.push({ severity: 'note', pass: 'quantize', message: `${stats.convFloat} conv2d layer(s) stay float (quantized conv is not implemented yet)` });
      if (!edit.count) return { graph: g, changed: false, stats };
      return { graph: dropUnread(edit.apply()), changed: true, stats };
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
