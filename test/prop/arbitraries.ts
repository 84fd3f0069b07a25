// Shared fast-check arbitraries: dims mixing random sizes with the awkward 1, 3, 7, 13; shapes
// capped in elements; and random valid f32 graphs (elementwise with broadcasting, matmul, gemm,
// conv2d incl. groups/depthwise, reshape, transpose, reduce_*, softmax/log_softmax, layer_norm,
// rms_norm) with matching inputs. Every graph passes verifyGraph; shapes are concrete. Packed
// dtypes, symbolic dims and gather (its indices must be constants) are not generated here.

import fc from 'fast-check';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Attrs, Graph } from '../../src/ir/graph.ts';
import { convOutSize } from '../../src/ir/ops/conv.ts';
import { BINARY, UNARY } from '../../src/ir/ops/elementwise.ts';
import { broadcastShapes, numel } from '../../src/ir/shape.ts';
import { ndarray, tensor, type NdArray } from '../../src/ir/tensor.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { CNN_OP_KINDS, cnnStep, type CnnOpKind } from './arbitraries-cnn.ts';

/** Seed for every property test: env ANYBIT_SEED (default 42). fast-check prints it on failure. */
export const SEED: number = Number.parseInt(process.env.ANYBIT_SEED ?? '42', 10) || 42;

/** Parameters for fc.assert: the fixed seed and a run count. */
export function fcParams(numRuns = 100): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns };
}

export const AWKWARD_DIMS: readonly number[] = [1, 3, 7, 13];

export const OP_KINDS = ['unary', 'binary', 'matmul', 'gemm', 'conv2d', 'reshape', 'transpose', 'reduce', 'softmax', 'norm', ...CNN_OP_KINDS] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** A dim in 1..max, drawn half the time from the awkward sizes (those <= max). */
export function arbDim(opts: { max?: number } = {}): fc.Arbitrary<number> {
  const max = opts.max ?? 13;
  const awkward = AWKWARD_DIMS.filter((d) => d <= max);
  return awkward.length ? fc.oneof(fc.constantFrom(...awkward), fc.integer({ min: 1, max })) : fc.integer({ min: 1, max });
}

export interface ShapeOptions {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly maxDim?: number;
  /** Larger shapes have their biggest dims halved until they fit (default 2048). */
  readonly maxElements?: number;
}

export function arbShape(opts: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const cap = opts.maxElements ?? 2048;
  return fc.array(arbDim({ max: opts.maxDim ?? 13 }), { minLength: opts.minRank ?? 1, maxLength: opts.maxRank ?? 4 })
    .map((s) => capShape(s, cap));
}

export function capShape(s: readonly number[], cap: number): number[] {
  const out = [...s];
  while (numel(out) > cap) {
    const i = out.indexOf(Math.max(...out));
    out[i] = Math.ceil((out[i] as number) / 2);
  }
  return out;
}

export { mulberry32 };

/** Values uniform in [-1, 1), rounded to f32 so f32 kernels see exactly the oracle's inputs. */
export function randomF32(n: number, rand: () => number): Float32Array {
  return uniformF32(n, rand);
}

/** Random inputs for every graph input of `g` (shapes must be concrete). */
export function inputsFor(g: Graph, seed: number): Record<string, NdArray> {
  const rand = mulberry32(seed);
  const out: Record<string, NdArray> = {};
  for (const name of g.inputs) {
    const shape = g.values.get(name)?.shape ?? [];
    if (shape.some((d) => typeof d !== 'number')) throw new Error(`inputsFor: input '${name}' has a symbolic shape`);
    const dims = shape as readonly number[];
    out[name] = ndarray(dims, randomF32(numel(dims), rand));
  }
  return out;
}

export interface GraphOptions {
  readonly ops?: readonly OpKind[];
  readonly minNodes?: number;
  readonly maxNodes?: number;
  readonly maxInputs?: number;
  readonly maxRank?: number;
  readonly maxDim?: number;
  readonly maxElements?: number;
  /** Weights as initializers (default) or as extra graph inputs. */
  readonly weights?: 'initializers' | 'inputs';
  /** Unary op names to use (default: all in the op table). */
  readonly unaryOps?: readonly string[];
  /** Binary op names to use (default: all). */
  readonly binaryOps?: readonly string[];
  /**
   * Keep values finite (default true): sqrt reads abs(x), exp reads clip(x, -8, 8), div
   * divides by clip(y, 0.5, 4), pow is clip(x, 0.5, 2) ^ clip(y, -2, 2).
   */
  readonly safe?: boolean;
}

export interface GraphCase {
  readonly graph: Graph;
  readonly inputs: Record<string, NdArray>;
}

interface Step { readonly kind: number; readonly p: readonly number[]; readonly dims: readonly number[] }

/** Random valid graph plus inputs. Outputs are exactly the values no node reads (no dead code). */
export function arbGraph(opts: GraphOptions = {}): fc.Arbitrary<GraphCase> {
  const shape = arbShape({ maxRank: opts.maxRank ?? 4, maxDim: opts.maxDim ?? 13, maxElements: opts.maxElements ?? 2048 });
  const step = fc.record({
    kind: fc.nat({ max: 1000 }),
    p: fc.array(fc.nat({ max: 1 << 16 }), { minLength: 16, maxLength: 16 }),
    dims: fc.array(arbDim({ max: opts.maxDim ?? 13 }), { minLength: 4, maxLength: 4 }),
  });
  return fc.record({
    inputs: fc.array(shape, { minLength: 1, maxLength: opts.maxInputs ?? 2 }),
    steps: fc.array(step, { minLength: opts.minNodes ?? 1, maxLength: opts.maxNodes ?? 6 }),
    seed: fc.nat(),
  }).map(({ inputs, steps, seed }) => buildGraph(inputs, steps, seed, opts));
}

interface Val { readonly name: string; readonly shape: readonly number[] }

const pick = <T>(p: number, xs: readonly T[]): T => xs[p % xs.length] as T;

/** Interprets a recipe deterministically; every choice is taken modulo what is valid here. */
function buildGraph(inputShapes: readonly number[][], steps: readonly Step[], seed: number, opts: GraphOptions): GraphCase {
  const rand = mulberry32(seed);
  const cap = opts.maxElements ?? 2048;
  const safe = opts.safe ?? true;
  const kinds = opts.ops?.length ? opts.ops : OP_KINDS;
  const unary = opts.unaryOps ?? Object.keys(UNARY);
  const binary = opts.binaryOps ?? Object.keys(BINARY);
  const b = new GraphBuilder('random');
  const inputs: Record<string, NdArray> = {};
  const pool: Val[] = [];
  const read = new Set<string>();
  let nIn = 0;
  let nW = 0;
  const addInput = (s: readonly number[]): Val => {
    const name = b.input(`x${nIn++}`, 'f32', s);
    inputs[name] = ndarray(s, randomF32(numel(s), rand));
    return { name, shape: s };
  };
  const weight = (s: readonly number[]): string => {
    if (opts.weights === 'inputs') return addInput(s).name;
    return b.initializer(`w${nW++}`, tensor('f32', s, randomF32(numel(s), rand)));
  };
  const op = (o: string, args: readonly string[], attrs: Attrs = {}): Val => {
    for (const a of args) read.add(a);
    const name = b.op(o, args, attrs);
    return { name, shape: b.typeOf(name).shape as number[] };
  };
  const opMulti = (o: string, args: readonly string[], attrs: Attrs): Val[] => {
    for (const a of args) read.add(a);
    const outs = b.opMulti(o, args, attrs).map((name) => ({ name, shape: b.typeOf(name).shape as number[] }));
    pool.push(...outs.slice(1)); // the caller pushes the first
    return outs;
  };
  const choose = (p: number): Val => {
    // Prefer values nobody reads yet, so graphs stay connected rather than fanning off x0.
    const fresh = pool.filter((v) => !read.has(v.name));
    return fresh.length && p % 4 !== 0 ? pick(p >> 2, fresh) : pick(p >> 2, pool);
  };
  for (const s of inputShapes) pool.push(addInput(s));

  for (const st of steps) {
    const p = (i: number): number => st.p[i] as number;
    const x = choose(p(0));
    const kind = pick(st.kind, kinds);
    let out: Val;
    if (kind === 'unary') {
      const name = pick(p(1), unary);
      let arg = x.name;
      if (safe && name === 'sqrt') arg = op('abs', [arg]).name;
      if (safe && name === 'exp') arg = op('clip', [arg], { min: -8, max: 8 }).name;
      out = op(name, [arg], unaryAttrs(name, st.p));
    } else if (kind === 'binary') {
      out = binaryStep(x, st, pick(p(1), binary));
    } else if (kind === 'matmul') {
      out = matmulStep(x, st);
    } else if (kind === 'gemm') {
      out = gemmStep(x, st);
    } else if (kind === 'conv2d') {
      out = convStep(x, st);
    } else if (kind === 'reduce') {
      // Reducing every dim keeps them (rank-0 values would trip up later steps).
      const r = x.shape.length;
      const axes = x.shape.map((_, d) => d).filter((d) => (p(2) >> d) & 1).map((d) => ((p(3) >> d) & 1 ? d - r : d));
      const keepdims = axes.length === r || axes.length === 0 ? 1 : p(4) % 2;
      out = op(pick(p(1), ['reduce_sum', 'reduce_mean', 'reduce_max']), [x.name], { axes, keepdims });
    } else if (kind === 'softmax') {
      const r = x.shape.length;
      out = op(pick(p(1), ['softmax', 'log_softmax']), [x.name], p(2) % 3 === 0 ? {} : { axis: (p(3) % (2 * r)) - r });
    } else if (kind === 'norm') {
      const axis = p(2) % x.shape.length;
      const name = pick(p(1), ['layer_norm', 'rms_norm']);
      const args = [x.name, weight(x.shape.slice(axis))];
      if (name === 'layer_norm' && p(3) % 2) args.push(weight(x.shape.slice(axis)));
      out = op(name, args, { axis, epsilon: pick(p(4), [1e-5, 1e-3]) });
    } else if ((CNN_OP_KINDS as readonly string[]).includes(kind)) {
      out = cnnStep({ op, opMulti, weight, cap }, kind as CnnOpKind, x, p, st.dims);
    } else if (kind === 'reshape') {
      out = op('reshape', [x.name], { shape: reshapeSpec(x.shape, st.p) });
    } else {
      const r = x.shape.length;
      const perm = Array.from({ length: r }, (_, i) => i);
      for (let i = r - 1; i > 0; i--) {
        const j = p(2 + i) % (i + 1);
        [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
      }
      out = op('transpose', [x.name], p(1) % 4 === 0 ? {} : { perm });
    }
    pool.push(out);
  }
  for (const v of pool) if (!read.has(v.name) && !(v.name in inputs)) b.output(v.name);
  return { graph: b.build(), inputs };

  function binaryStep(x: Val, st: Step, name: string): Val {
    const p = (i: number): number => st.p[i] as number;
    let y: Val | undefined;
    if (p(2) % 3 === 0) {
      for (let k = 0; k < pool.length && !y; k++) {
        const c = pool[(p(3) + k) % pool.length] as Val;
        const s = broadcastShapes(x.shape, c.shape);
        if (c.name !== x.name && typeof s !== 'string' && numel(s as number[]) <= cap) y = c;
      }
    }
    if (!y) {
      // Drop leading dims, set some to 1, and where x has 1 maybe expand: mutual broadcasting.
      const drop = p(4) % (x.shape.length + 1);
      let s = x.shape.slice(drop).map((d, i) => ((p(5) >> i) & 1 ? 1 : d === 1 && (p(6) >> i) & 1 ? (st.dims[i % 4] as number) : d));
      if (numel(broadcastShapes(x.shape, s) as number[]) > cap) s = x.shape.slice(drop).map(() => 1);
      y = p(7) % 2 ? addInput(s) : { name: weight(s), shape: s };
    }
    let [l, r] = p(8) % 2 ? [y.name, x.name] : [x.name, y.name];
    if (safe && name === 'div') r = op('clip', [r], { min: 0.5, max: 4 }).name;
    if (safe && name === 'pow') {
      l = op('clip', [l], { min: 0.5, max: 2 }).name;
      r = op('clip', [r], { min: -2, max: 2 }).name;
    }
    return op(name, [l, r]);
  }

  function flatten2d(x: Val): Val {
    if (x.shape.length === 2) return x;
    const last = x.shape[x.shape.length - 1] ?? 1;
    return op('reshape', [x.name], { shape: [-1, last] });
  }

  function matmulStep(x: Val, st: Step): Val {
    const p = (i: number): number => st.p[i] as number;
    const a = x.shape.length >= 2 ? x : op('reshape', [x.name], { shape: p(1) % 2 ? [1, -1] : [-1, 1] });
    const r = a.shape.length;
    const N = st.dims[0] as number;
    // The other operand's batch dims: a suffix of a's, each kept or set to 1 (broadcast).
    const batch = a.shape.slice(0, r - 2);
    const keep = p(2) % (batch.length + 1);
    const bBatch = batch.slice(batch.length - keep).map((d, i) => ((p(3) >> i) & 1 ? 1 : d));
    if (p(4) % 2) {
      const M = st.dims[1] as number;
      const left = weight([...bBatch, M, a.shape[r - 2] as number]);
      return op('matmul', [left, a.name]);
    }
    return op('matmul', [a.name, weight([...bBatch, a.shape[r - 1] as number, N])]);
  }

  function gemmStep(x: Val, st: Step): Val {
    const p = (i: number): number => st.p[i] as number;
    const a = flatten2d(x);
    const transA = p(1) % 2;
    const transB = p(2) % 2;
    const [M, K] = (transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]]) as [number, number];
    const N = st.dims[0] as number;
    const args = [a.name, weight(transB ? [N, K] : [K, N])];
    const cShape = [undefined, [M, N], [N], [1, N], [M, 1], [1], []][p(3) % 7];
    if (cShape) args.push(weight(cShape));
    const attrs: Record<string, number> = {};
    if (transA || p(6) % 2) attrs.transA = transA;
    if (transB || p(6) % 3 === 0) attrs.transB = transB;
    const alpha = pick(p(4), [1, 0.5, -1.25, 2]);
    const beta = pick(p(5), [1, 0, 0.75, -0.5]);
    if (alpha !== 1 || p(7) % 2) attrs.alpha = alpha;
    if ((cShape && beta !== 1) || p(8) % 3 === 0) attrs.beta = beta;
    return op('gemm', args, attrs);
  }

  function convStep(x: Val, st: Step): Val {
    const p = (i: number): number => st.p[i] as number;
    let X = pool.find((v, i) => i >= p(0) % pool.length && v.shape.length === 4) ?? (x.shape.length === 4 ? x : undefined);
    if (!X) {
      const n = numel(x.shape);
      const C = pick(p(1), divisors(n).filter((d) => d <= 16));
      const H = pick(p(2), divisors(n / C));
      X = op('reshape', [x.name], { shape: [1, C, H, n / C / H] });
    }
    const [, C, H, W] = X.shape as [number, number, number, number];
    const groups = divisors(C);
    const group = pick(p(3), [1, C, ...groups]);
    let k = [1 + (p(5) % 3), 1 + (p(6) % 3)];
    const strides = [1 + (p(7) % 2), 1 + (p(8) % 2)];
    let dil = [1 + (p(9) % 2), 1 + (p(10) % 2)];
    const pads = [p(11) % 3, p(12) % 3, p(13) % 3, p(14) % 3];
    const outOf = (a: 0 | 1, size: number): number => convOutSize(size, k[a] as number, strides[a] as number, pads[a] as number, pads[a + 2] as number, dil[a] as number);
    let M = group * (1 + (p(4) % 3));
    // Padding a long thin image can blow the output up; keep the oracle fast.
    if ((X.shape[0] as number) * M * outOf(0, H) * outOf(1, W) > 4 * cap) { pads.fill(0); M = group; }
    if (outOf(0, H) < 1 || outOf(1, W) < 1) { k = [1, 1]; dil = [1, 1]; }
    const args = [X.name, weight([M, C / group, k[0] as number, k[1] as number])];
    if (p(15) % 2) args.push(weight([M]));
    const attrs: Record<string, number | number[]> = { };
    if (group !== 1 || p(15) % 3 === 0) attrs.group = group;
    if (strides.some((s) => s !== 1)) attrs.strides = strides;
    if (pads.some((s) => s !== 0)) attrs.pads = pads;
    if (dil.some((s) => s !== 1)) attrs.dilations = dil;
    return op('conv2d', args, attrs);
  }
}

function unaryAttrs(name: string, p: readonly number[]): Attrs {
  const q = (i: number): number => p[i] as number;
  if (q(2) % 4 === 0) return {}; // defaults
  switch (name) {
    case 'leaky_relu': return { alpha: pick(q(3), [0.01, 0.2, 1.5]) };
    case 'gelu': return { approximate: pick(q(3), ['none', 'tanh']) };
    case 'hardsigmoid': return { alpha: pick(q(3), [0.2, 1 / 6, 0.5]), beta: pick(q(4), [0.5, 0, 0.25]) };
    case 'clip': return { min: pick(q(3), [-1, -0.25, -Infinity, 0]), max: pick(q(4), [0.5, 1, 6, Infinity]) };
    default: return {};
  }
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** A random target for `reshape` of `shape`: numel's factors spread over 1..4 dims, maybe with 0/-1. */
function reshapeSpec(shape: readonly number[], p: readonly number[]): number[] {
  const q = (i: number): number => p[i] as number;
  const rank = 1 + (q(1) % 4);
  const out = new Array<number>(rank).fill(1);
  let n = numel(shape);
  let k = 2;
  for (let f = 2; n > 1; f++) {
    while (n % f === 0) {
      const i = q(k++ % p.length) % rank;
      out[i] = (out[i] as number) * f;
      n /= f;
    }
  }
  const spec = [...out];
  const minus = q(14) % 3 === 0 ? q(13) % rank : -1;
  if (minus >= 0) spec[minus] = -1;
  for (let i = 0; i < rank; i++) if (i !== minus && spec[i] === shape[i] && (q(15) >> i) & 1) spec[i] = 0;
  return spec;
}
