// Calibration-aware quantization: smoothing (W·diag(s), 1/s folded into the producer or a new
// mul) leaves the float graph's output unchanged (≤ 1e-9 relative, interpreter) for every
// producer kind, folds where it should, and only inserts a mul where it must; the α search never
// loses to "no smoothing" on its objective and wins on outlier channels; calibration statistics
// match the interpreter; output-MSE clipping never loses to RTN per channel; the smoothed,
// WxAy-quantized graph stays close to the float one.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { ndarray, tensor, type NdArray } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { passContext } from '../../src/passes/pass.ts';
import type { LayerSettings } from '../../src/passes/quantize/policy.ts';
import { quantizePass } from '../../src/passes/quantize/quantize-pass.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { applySmoothing, realActQ, realWeightQ, searchSmoothing } from '../../src/passes/quantize/smooth.ts';
import { smoothPhase } from '../../src/passes/quantize/smooth-plan.ts';
import { gram, type ActStats } from '../../src/quant/act-stats.ts';
import { calibrate } from '../../src/quant/calibrate.ts';
import { dequantize } from '../../src/quant/format.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { fcParams } from './arbitraries.ts';

const PRODUCERS = ['rms_norm', 'layer_norm', 'gemm', 'matmul', 'mul_const', 'mul_linear', 'input', 'shared'] as const;
type Producer = (typeof PRODUCERS)[number];
const FOLDS: Readonly<Record<Producer, boolean>> = { rms_norm: true, layer_norm: true, gemm: true, matmul: true, mul_const: true, mul_linear: true, input: false, shared: false };

interface Case { readonly g: Graph; readonly a: string; readonly layers: string[]; readonly inputs: Record<string, NdArray> }

/** x[M, C] -> producer -> A[M, K] read by 1-3 weight layers (gemm transB/not, matmul, with biases). */
function buildCase(kind: Producer, M: number, K: number, nLayers: number, seed: number): Case {
  const rand = mulberry32(seed);
  const u = (n: number, s = 1): Float32Array => uniformF32(n, rand, s);
  const b = new GraphBuilder('smooth');
  const C = kind === 'gemm' || kind === 'matmul' || kind === 'mul_linear' ? 5 : K;
  const x = b.input('x', 'f32', [M, C]);
  const inputs: Record<string, NdArray> = { x: ndarray([M, C], u(M * C, 3)) };
  let a: string;
  if (kind === 'rms_norm') a = b.op('rms_norm', [x, b.initializer('gamma', tensor('f32', [K], u(K)))], {}, { name: 'norm' });
  else if (kind === 'layer_norm') a = b.op('layer_norm', [x, b.initializer('gamma', tensor('f32', [K], u(K))), b.initializer('beta', tensor('f32', [K], u(K)))], {}, { name: 'norm' });
  else if (kind === 'gemm') a = b.op('gemm', [x, b.initializer('pw', tensor('f32', [K, C], u(K * C))), b.initializer('pb', tensor('f32', [K], u(K)))], { transB: 1 }, { name: 'prod' });
  else if (kind === 'matmul') a = b.op('matmul', [x, b.initializer('pw', tensor('f32', [C, K], u(K * C)))], {}, { name: 'prod' });
  else if (kind === 'mul_const') {
    const shapes = [[K], [1, K], [1], [M, K], []];
    const s = shapes[seed % shapes.length] as number[];
    a = b.op('mul', [x, b.initializer('c', tensor('f32', s, u(s.reduce((p, q) => p * q, 1))))], {}, { name: 'scale' });
  } else if (kind === 'mul_linear') {
    const up = b.op('gemm', [x, b.initializer('pw', tensor('f32', [K, C], u(K * C)))], { transB: 1 }, { name: 'up' });
    const gate = b.op('sigmoid', [b.op('gemm', [x, b.initializer('gw', tensor('f32', [K, C], u(K * C)))], { transB: 1 }, { name: 'gate' })]);
    a = b.op('mul', seed % 2 ? [gate, up] : [up, gate], {}, { name: 'glu' });
  } else if (kind === 'shared') {
    // A = relu(x) + relu(x), read by a sigmoid too: 1/s cannot go into the add.
    const h = b.op('relu', [x]);
    a = b.op('add', [h, h], {}, { name: 'sum' });
    b.output(b.op('sigmoid', [a]));
  } else a = x;
  const layers: string[] = [];
  for (let i = 0; i < nLayers; i++) {
    const N = 1 + ((seed + 3 * i) % 9);
    const form = (seed + i) % 3;
    const name = `l${i}`;
    const y = form === 0 ? b.op('gemm', [a, b.initializer(`w${i}`, tensor('f32', [N, K], u(N * K))), b.initializer(`b${i}`, tensor('f32', [N], u(N)))], { transB: 1 }, { name })
      : form === 1 ? b.op('gemm', [a, b.initializer(`w${i}`, tensor('f32', [K, N], u(N * K)))], {}, { name })
        : b.op('matmul', [a, b.initializer(`w${i}`, tensor('f32', [K, N], u(N * K)))], {}, { name });
    layers.push(name);
    b.output(y);
  }
  return { g: b.build(), a, layers, inputs };
}

function expectSame(g1: Graph, g2: Graph, inputs: Record<string, NdArray>, rel: number): void {
  const r1 = interpret(g1, inputs);
  const r2 = interpret(g2, inputs);
  for (const o of g1.outputs) {
    const x = r1.get(o)?.data as Float64Array;
    const y = r2.get(o)?.data as Float64Array;
    const scale = Math.max(1e-30, ...Array.from(x, Math.abs));
    for (let i = 0; i < x.length; i++) if (!(Math.abs((x[i] as number) - (y[i] as number)) <= rel * scale)) throw new Error(`output ${o}[${i}]: ${x[i]} vs ${y[i]}`);
  }
}

const settings = (o: Partial<LayerSettings> = {}): LayerSettings => ({ bits: 4, group: 0, actBits: 0, method: 'smooth', symmetric: undefined, bitBalance: false, ...o });

describe('smoothing is an exact float rewrite', () => {
  it('any power-of-two s: same outputs (1e-9), folded into the producer when it can be, else one new mul', () => {
    fc.assert(fc.property(fc.constantFrom(...PRODUCERS), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000),
      fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 13, maxLength: 13 }), (kind, M, K, n, seed, exps) => {
        const c = buildCase(kind, M, K, n, seed);
        const s = Float64Array.from({ length: K }, (_, i) => 2 ** (exps[i] as number));
        const r = applySmoothing(c.g, c.a, c.layers, s);
        expect(verifyGraph(r.graph)).toEqual([]);
        expectSame(c.g, r.graph, c.inputs, 1e-9);
        const muls = (g: Graph): number => g.nodes.filter((x) => x.op === 'mul').length;
        expect(r.foldedInto.startsWith('new mul')).toBe(!FOLDS[kind]);
        expect(muls(r.graph) - muls(c.g)).toBe(FOLDS[kind] ? 0 : 1);
        if (kind === 'rms_norm' || kind === 'layer_norm') expect(r.foldedInto).toMatch(new RegExp(`^${kind} 'norm' scale${kind === 'layer_norm' ? ' and bias' : ''}$`));
        if (kind === 'mul_linear') expect(r.foldedInto).toBe("output channels of 'up' (through mul 'glu')");
      }), fcParams(120));
  });

  it('the searched s, applied without quantization (smoothing phase only), leaves the graph unchanged', () => {
    fc.assert(fc.property(fc.constantFrom(...PRODUCERS), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 3, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), fc.constantFrom(0, 4, 8), (kind, M, K, n, seed, actBits) => {
      const c = buildCase(kind, M, K, n, seed);
      const cal = calibrate(c.g, [c.inputs]);
      const st = settings({ actBits, bits: 2 + (seed % 3) });
      const stats = new Map(cal.layers);
      const ctx = passContext(true);
      const r = smoothPhase(c.g, () => st, stats, { calibration: cal }, ctx);
      expectSame(c.g, r.graph, c.inputs, 1e-9);
      // Exactly the smoothed layers' statistics were rescaled to what they now read.
      const smoothed = ctx.diag.filter((d) => d.message.startsWith('smoothed')).flatMap((d) => (d.node ?? '').split(', '));
      expect(smoothed.length > 0).toBe(r.smoothed > 0);
      for (const [l, st0] of cal.layers) expect(stats.get(l) !== st0).toBe(smoothed.includes(l));
    }), fcParams(60));
  });
});

/** Rows with a few outlier channels (x50), as in LLM activations. */
function outlierStats(M: number, K: number, seed: number): ActStats {
  const rand = mulberry32(seed);
  const rows = Float64Array.from(uniformF32(M * K, rand));
  const hot = [1, Math.floor(K / 2)];
  for (let m = 0; m < M; m++) for (const k of hot) rows[m * K + k] = (rows[m * K + k] as number) * 50;
  const absmax = new Float64Array(K);
  for (let i = 0; i < rows.length; i++) absmax[i % K] = Math.max(absmax[i % K] as number, Math.abs(rows[i] as number));
  return { K, absmax, rows, count: M, seen: M };
}

describe('α search', () => {
  it('never loses to no smoothing on its objective', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(0, 4, 8), fc.integer({ min: 2, max: 8 }), fc.nat(), (M, K, N, actBits, bits, seed) => {
      const x = outlierStats(M, K, seed);
      const nk = Float64Array.from(uniformF32(N * K, mulberry32(seed + 1)));
      const r = searchSmoothing(x, [{ nk, N, settings: settings({ actBits, bits }) }]);
      expect(r.error).toBeLessThanOrEqual(r.baseline);
      if (r.alpha === null) expect([...r.s].every((v) => v === 1)).toBe(true);
      expect([...r.s].every((v) => Number.isInteger(Math.log2(v)))).toBe(true);
    }), fcParams(60));
  });

  it('with outlier channels at W8A8 it finds an α that halves the output error on held-out rows', () => {
    const K = 64;
    const N = 32;
    const train = outlierStats(256, K, 5);
    const test = outlierStats(64, K, 6);
    const nk = Float64Array.from(uniformF32(N * K, mulberry32(7)));
    const st = settings({ actBits: 8, bits: 8 });
    const r = searchSmoothing(train, [{ nk, N, settings: st }]);
    expect(r.alpha).not.toBeNull();
    expect(r.error).toBeLessThan(0.5 * r.baseline);
    const err = (s: Float64Array): number => {
      const xq = realActQ(test.rows.map((v, i) => v / (s[i % K] as number)), K, 8);
      const wq = realWeightQ(nk.map((w, i) => w * (s[i % K] as number)), N, K, st);
      let e = 0;
      for (let m = 0; m < test.count; m++) {
        for (let n = 0; n < N; n++) {
          let y = 0;
          let yq = 0;
          for (let k = 0; k < K; k++) {
            y += (test.rows[m * K + k] as number) * (nk[n * K + k] as number);
            yq += (xq[m * K + k] as number) * (wq[n * K + k] as number);
          }
          e += (y - yq) ** 2;
        }
      }
      return e;
    };
    expect(err(r.s)).toBeLessThan(0.5 * err(new Float64Array(K).fill(1)));
  });
});

describe('calibration', () => {
  it('absmax per channel and sampled rows match the interpreter; layers sharing A share statistics', () => {
    const c = buildCase('rms_norm', 7, 10, 3, 11);
    const samples = [c.inputs, { x: ndarray([7, 10], uniformF32(70, mulberry32(2), 4)) }];
    const cal = calibrate(c.g, samples, { maxRows: 9 });
    const st = cal.layers.get('l0') as ActStats;
    expect(cal.layers.get('l2')).toBe(st);
    expect(st).toMatchObject({ K: 10, count: 9, seen: 14 });
    const all = samples.flatMap((s) => [...(interpret({ ...c.g, outputs: [c.a] }, s).get(c.a)?.data as Float64Array)]);
    for (let k = 0; k < 10; k++) expect(st.absmax[k]).toBe(Math.max(...all.filter((_, i) => i % 10 === k).map(Math.abs)));
    const rows = new Set(Array.from({ length: all.length / 10 }, (_, r) => all.slice(r * 10, r * 10 + 10).join(',')));
    for (let r = 0; r < st.count; r++) expect(rows.has(Array.from(st.rows.subarray(r * 10, r * 10 + 10)).join(','))).toBe(true);
    // The pass reports the calibrated ranges per layer input (here unsmoothed: 'mse').
    const ctx = passContext();
    const r = quantizePass({ bits: 4, calibration: cal }).run(c.g, ctx);
    expect(r.stats?.[`absmax:${c.a}`]).toBe(Math.max(...all.map(Math.abs)));
    expect(ctx.diag.some((d) => d.node === 'l0' && /\|x\| absmax .* p99\.9 .* \(9 of 14 calibration rows sampled\)/.test(d.message))).toBe(true);
  });

  it('output-MSE clipping never has more calibration output error than RTN, group by group', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom(0, 3, 7, 16), fc.nat(), (M, K, N, bits, group, seed) => {
      const x = outlierStats(M, K, seed);
      const w = uniformF32(N * K, mulberry32(seed + 9));
      const G = group > 0 && group < K ? group : K;
      // Σ_m (Σ_{k in group} x[m,k] Δ[n,k])² per (row, group): what the search minimises (exact per channel).
      const outErr = (deq: Float64Array): number[] => {
        const e: number[] = [];
        for (let n = 0; n < N; n++) for (let g0 = 0; g0 < K; g0 += G) {
          let s = 0;
          for (let m = 0; m < M; m++) {
            let d = 0;
            for (let k = g0; k < Math.min(K, g0 + G); k++) d += (x.rows[m * K + k] as number) * ((w[n * K + k] as number) - (deq[n * K + k] as number));
            s += d * d;
          }
          e.push(s);
        }
        return e;
      };
      const o = { bits, group, symmetric: bits >= 4 };
      const rtn = outErr(dequantize(quantizeMatrix(w, N, K, { ...o, method: 'rtn' }).weight));
      const mse = outErr(dequantize(quantizeMatrix(w, N, K, { ...o, method: 'mse', hessian: gram(x) }).weight));
      mse.forEach((e, i) => expect(e).toBeLessThanOrEqual((rtn[i] as number) * (1 + 1e-9) + 1e-18));
    }), fcParams(80));
  });
});

describe('smoothed WxAy pass', () => {
  it('is valid, shares quantize_act, and W8A8 stays within 3% of the float output', () => {
    fc.assert(fc.property(fc.constantFrom(...PRODUCERS), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 8, max: 70 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), (kind, M, K, n, seed) => {
      const c = buildCase(kind, M, K, n, seed);
      const ctx = passContext(true);
      const r = quantizePass({ bits: 8, actBits: 8, method: 'smooth', calibration: calibrate(c.g, [c.inputs]) }).run(c.g, ctx);
      expect(verifyGraph(r.graph)).toEqual([]);
      const nb = r.graph.nodes.filter((x: Node) => x.op === 'matmul_nbits');
      expect(nb.length).toBe(n + (kind === 'gemm' || kind === 'matmul' ? 1 : kind === 'mul_linear' ? 2 : 0));
      // One quantize_act per distinct A (the consumers of A share one).
      expect(r.graph.nodes.filter((x) => x.op === 'quantize_act').length).toBe(new Set(nb.map((x) => x.inputs[0])).size);
      expect(new Set(nb.filter((x) => c.layers.includes(x.name)).map((x) => x.inputs[0])).size).toBe(1);
      expect(ctx.diag.filter((d) => d.severity === 'error')).toEqual([]);
      expectSame(c.g, r.graph, c.inputs, 0.03);
    }), fcParams(40));
  });
});
