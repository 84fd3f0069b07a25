// SmoothQuant-style scaling and its α search: layers reading one A get W' = W·diag(s), X' = X/s,
// 1/s folded into A's producer (norm scale/bias, constant mul, a linear layer's output channels,
// also through a mul) or else a new `mul`. s is a power of two, so folds are exact in f32 (why:
// the float graph's outputs stay identical). Choosing which layers to smooth is smooth-plan.ts's.

import type { Graph, Node } from '../../ir/graph.ts';
import { numberAttr } from '../../ir/graph.ts';
import { tensor, type Tensor, type TensorType } from '../../ir/tensor.ts';
import { quantizeActRow } from '../../quant/act.ts';
import { gram, type ActStats } from '../../quant/act-stats.ts';
import { dequantize } from '../../quant/format.ts';
import { viewOf } from '../simplify/pattern-util.ts';
import type { LayerSettings } from './policy.ts';
import { quantizeMatrix } from './quantizer.ts';

export const SMOOTH_ALPHAS: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);

/** True when the layer's constant weight holds input channels along its rows (W[K, N]). */
const kRows = (n: Node): boolean => n.op === 'matmul' || numberAttr(n.attrs, 'transB', 0) === 0;

/** The layer's weight as [N, K] row-major float64. */
export function weightNK(g: Graph, n: Node): { nk: Float64Array; N: number; K: number } {
  const w = g.initializers.get(n.inputs[1] ?? '');
  if (!w || w.shape.length !== 2) throw new Error(`smooth: layer '${n.name}' has no constant 2-D weight`);
  const [r, c] = w.shape as [number, number];
  if (!kRows(n)) return { nk: Float64Array.from(w.data), N: r, K: c };
  const nk = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) nk[j * r + i] = w.data[i * c + j] as number;
  return { nk, N: c, K: r };
}

/** t scaled by f[i] along `axis` (0 = rows, 1 = columns of a 2-D tensor; 'last' = the last axis, broadcast from 1 to f.length). */
function scaleAlong(t: Tensor, f: ArrayLike<number>, axis: 0 | 1 | 'last'): Tensor {
  const L = f.length;
  if (axis === 'last') {
    const last = t.shape[t.shape.length - 1] ?? 1;
    const shape = last === L ? [...t.shape] : t.shape.length ? [...t.shape.slice(0, -1), L] : [L];
    const outer = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const out = new Float32Array(outer * L);
    for (let o = 0; o < outer; o++) for (let i = 0; i < L; i++) out[o * L + i] = (t.data[last === L ? o * L + i : o] as number) * (f[i] as number);
    return tensor('f32', shape, out);
  }
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = (t.data[i * c + j] as number) * (f[axis === 0 ? i : j] as number);
  return tensor('f32', [r, c], out);
}

class Editor {
  nodes: Node[];
  inits: Map<string, Tensor>;
  values: Map<string, TensorType>;
  constructor(readonly g: Graph) {
    this.nodes = [...g.nodes];
    this.inits = new Map(g.initializers);
    this.values = new Map(g.values);
  }
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.values.has(name); i++) name = `${base}_${i}`;
    return name;
  }
  addConst(base: string, t: Tensor): string {
    const name = this.fresh(base);
    this.inits.set(name, t);
    this.values.set(name, { dtype: t.dtype, shape: t.shape });
    return name;
  }
  setInput(n: Node, i: number, v: string): Node {
    const m: Node = { ...n, inputs: n.inputs.map((x, j) => (j === i ? v : x)) };
    this.nodes[this.nodes.indexOf(n)] = m;
    return m;
  }
  f32(v: string | undefined): Tensor | undefined {
    const t = v === undefined ? undefined : this.inits.get(v);
    return t && t.dtype === 'f32' ? t : undefined;
  }
  graph(): Graph {
    return { ...this.g, nodes: this.nodes, initializers: this.inits, values: this.values };
  }
}

/** Output channels of weight layer `p` scaled by `inv` (its constant weight and bias); false when not possible. */
function foldIntoLinear(e: Editor, p: Node, inv: Float64Array): boolean {
  const w = e.f32(p.inputs[1]);
  if (!w || w.shape.length !== 2 || (p.op !== 'gemm' && p.op !== 'matmul')) return false;
  const outRows = p.op === 'gemm' && numberAttr(p.attrs, 'transB', 0) !== 0;
  if ((outRows ? w.shape[0] : w.shape[1]) !== inv.length) return false;
  const c = p.inputs[2];
  const ct = e.f32(c);
  if (c && (!ct || ct.shape.length > 2 || ![1, inv.length].includes(ct.shape[ct.shape.length - 1] ?? 1))) return false;
  let q = e.setInput(p, 1, e.addConst(`${p.inputs[1]}.smooth`, scaleAlong(w, inv, outRows ? 0 : 1)));
  if (c && ct) q = e.setInput(q, 2, e.addConst(`${c}.smooth`, scaleAlong(ct, inv, 'last')));
  return true;
}

/** Folds 1/s (`inv`) into the producer of `a`; returns a description, or null when nothing fits. */
function foldIntoProducer(e: Editor, a: string, inv: Float64Array): string | null {
  const v = viewOf(e.graph());
  const p = v.prod.get(a);
  if (!p) return null;
  const K = inv.length;
  if (p.op === 'rms_norm' || p.op === 'layer_norm') {
    const gamma = e.f32(p.inputs[1]);
    const beta = p.inputs[2] ? e.f32(p.inputs[2]) : undefined;
    if (!gamma || gamma.shape.length !== 1 || gamma.shape[0] !== K || (p.inputs[2] && (!beta || beta.shape.length !== 1))) return null;
    let q = e.setInput(p, 1, e.addConst(`${p.inputs[1]}.smooth`, scaleAlong(gamma, inv, 'last')));
    if (p.inputs[2] && beta) q = e.setInput(q, 2, e.addConst(`${p.inputs[2]}.smooth`, scaleAlong(beta, inv, 'last')));
    return `${p.op} '${p.name}' scale${beta ? ' and bias' : ''}`;
  }
  if (p.op === 'gemm' || p.op === 'matmul') return foldIntoLinear(e, p, inv) ? `output channels of '${p.name}'` : null;
  if (p.op === 'mul') {
    for (const side of [1, 0] as const) {
      const c = e.f32(p.inputs[side]);
      if (c && c.shape.length <= (v.shape(a)?.length ?? 0) && (c.shape.length === 0 || [1, K].includes(c.shape[c.shape.length - 1] as number))) {
        e.setInput(p, side, e.addConst(`${p.inputs[side]}.smooth`, scaleAlong(c, inv, 'last')));
        return `constant of mul '${p.name}'`;
      }
    }
    for (const side of [0, 1] as const) {
      if (p.inputs[0] === p.inputs[1]) break;
      const x = p.inputs[side] as string;
      const q = v.prod.get(x);
      const sx = v.shape(x);
      const sa = v.shape(a);
      if (q && v.single(x) && sx && sa && sx.length === sa.length && sx.every((d, i) => d === sa[i]) && foldIntoLinear(e, q, inv)) return `output channels of '${q.name}' (through mul '${p.name}')`;
    }
  }
  return null;
}

/**
 * Applies W' = W·diag(s) to `layers` (all reading `a`) and X' = X/s, folding 1/s into A's
 * producer when every reader of A is among `layers`, else inserting `mul(a, 1/s)`.
 * `s` must hold powers of two (exactness). Returns the graph and where 1/s went.
 */
export function applySmoothing(g: Graph, a: string, layers: readonly string[], s: Float64Array): { graph: Graph; foldedInto: string } {
  const e = new Editor(g);
  const inv = s.map((x) => 1 / x);
  const targets = layers.map((name) => e.nodes.find((n) => n.name === name));
  for (const n of targets) {
    if (!n || n.inputs[0] !== a) throw new Error(`smooth: layer '${n?.name ?? '?'}' does not read '${a}'`);
    const w = e.f32(n.inputs[1]);
    if (!w || w.shape.length !== 2) throw new Error(`smooth: layer '${n.name}' has no constant 2-D weight`);
    e.setInput(n, 1, e.addConst(`${n.inputs[1]}.smooth`, scaleAlong(w, s, kRows(n) ? 0 : 1)));
  }
  const v = viewOf(e.graph());
  const names = new Set(layers);
  const exclusive = !g.outputs.includes(a) && !g.inputs.includes(a) && v.readers(a).every((r) => names.has(r.name));
  const folded = exclusive ? foldIntoProducer(e, a, inv) : null;
  if (folded) return { graph: e.graph(), foldedInto: folded };
  const c = e.addConst(`${a}.smooth_inv`, tensor('f32', [s.length], Float32Array.from(inv)));
  const out = e.fresh(`${a}.smoothed`);
  e.values.set(out, e.values.get(a) as TensorType);
  const readers = e.nodes.filter((n) => names.has(n.name));
  const first = Math.min(...readers.map((n) => e.nodes.indexOf(n)));
  for (const n of readers) e.setInput(n, 0, out);
  let mulName = `${a}.smooth`;
  for (let i = 1; e.nodes.some((n) => n.name === mulName); i++) mulName = `${a}.smooth_${i}`;
  e.nodes.splice(first, 0, { name: mulName, op: 'mul', inputs: [a, c], outputs: [out], attrs: {} });
  return { graph: e.graph(), foldedInto: `new mul '${mulName}'` };
}

/** Dequantizes W[N, K] as the layer's weight quantizer would (the search's Q_w; `hessian` = Gram matrix of its input rows). */
export type WeightQ = (nk: Float64Array, N: number, K: number, st: LayerSettings, hessian?: Float64Array) => Float64Array;
/** Fake-quantizes activation rows [rows, K] in place (the search's Q_a); identity when actBits = 0. */
export type ActQ = (rows: Float64Array, K: number, actBits: number) => Float64Array;

/** The pass's own weight quantizer: output-MSE clipping on the (smoothed) calibration rows unless 'rtn'. */
export const realWeightQ: WeightQ = (nk, N, K, st, hessian) => dequantize(quantizeMatrix(nk, N, K, {
  bits: st.bits, group: st.group, symmetric: st.symmetric ?? st.bits >= 4, method: st.method === 'rtn' ? 'rtn' : 'mse', bitBalance: st.bitBalance, hessian,
}).weight);

export const realActQ: ActQ = (rows, K, actBits) => {
  if (!actBits) return rows;
  const out = new Float64Array(rows.length);
  for (let r = 0; r * K < rows.length; r++) {
    const q = quantizeActRow(rows.subarray(r * K, (r + 1) * K), actBits);
    for (let k = 0; k < K; k++) out[r * K + k] = q.scale * ((q.codes[k] as number) - q.zero);
  }
  return out;
};

const pow2 = (x: number): number => (Number.isFinite(x) && x > 0 ? 2 ** Math.max(-60, Math.min(60, Math.round(Math.log2(x)))) : 1);

export interface SmoothLayerInput {
  readonly nk: Float64Array;
  readonly N: number;
  readonly settings: LayerSettings;
}

/**
 * The α (and s) minimising Σ_layers ‖X W^T − Q_a(X/s) Q_w(W s)^T‖² on the sampled rows; s ≡ 1
 * (no smoothing) is a candidate too, returned as alpha null, so smoothing never loses here.
 */
export function searchSmoothing(x: ActStats, layers: readonly SmoothLayerInput[], o: { alphas?: readonly number[]; wq?: WeightQ; aq?: ActQ } = {}): { alpha: number | null; s: Float64Array; error: number; baseline: number } {
  const K = x.K;
  const M = x.count;
  const wq = o.wq ?? realWeightQ;
  const aq = o.aq ?? realActQ;
  const wmax = new Float64Array(K);
  for (const l of layers) for (let i = 0; i < l.nk.length; i++) wmax[i % K] = Math.max(wmax[i % K] as number, Math.abs(l.nk[i] as number));
  const refs = layers.map((l) => matmulT(x.rows, l.nk, M, l.N, K));
  const h = gram(x);
  const errorOf = (s: Float64Array): number => {
    let e = 0;
    // Gram matrix of X/s: H_ij / (s_i s_j).
    const hs = h.map((v, ij) => v / ((s[Math.floor(ij / K)] as number) * (s[ij % K] as number)));
    layers.forEach((l, li) => {
      const ws = l.nk.map((w, i) => w * (s[i % K] as number));
      const xs = aq(x.rows.map((v, i) => v / (s[i % K] as number)), K, l.settings.actBits);
      const y = matmulT(xs, wq(ws, l.N, K, l.settings, hs), M, l.N, K);
      const ref = refs[li] as Float64Array;
      for (let i = 0; i < y.length; i++) e += ((y[i] as number) - (ref[i] as number)) ** 2;
    });
    return e;
  };
  let best = { alpha: null as number | null, s: new Float64Array(K).fill(1), error: 0 };
  best.error = errorOf(best.s);
  const baseline = best.error;
  for (const alpha of o.alphas ?? SMOOTH_ALPHAS) {
    const s = Float64Array.from({ length: K }, (_, j) => {
      const xm = x.absmax[j] as number;
      const wm = wmax[j] as number;
      return xm > 0 && wm > 0 ? pow2(xm ** alpha / wm ** (1 - alpha)) : 1;
    });
    const err = errorOf(s);
    if (err < best.error) best = { alpha, s, error: err };
  }
  return { ...best, baseline };
}

/** X[M, K] · W[N, K]^T. */
function matmulT(x: Float64Array, w: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += (x[m * K + k] as number) * (w[n * K + k] as number);
      y[m * N + n] = acc;
    }
  }
  return y;
}
