// Fake quantization (src/quant/fake-quant.ts + src/onnx/export-fake-quant.ts) and the greedy CTC
// decoder the accuracy table uses: fake-quantized weights are dequantize(quantizeMatrix(...)); the
// dequantized graph computes what the quantized graph's reference computes; ONNX activation sites
// equal act.ts's per-row grid (matmul rows and conv pixels) and the WxA8 matmul_nbits reference.

import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { ndarray, tensor } from '../../src/ir/tensor.ts';
import { exportFakeQuantOnnx } from '../../src/onnx/export-fake-quant.ts';
import { passContext } from '../../src/passes/pass.ts';
import { quantizePass } from '../../src/passes/quantize/quantize-pass.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { dequantize } from '../../src/quant/format.ts';
import { dequantizeGraph, fakeQuantActRows, fakeQuantWeight } from '../../src/quant/fake-quant.ts';
import { ctcCollapse, ctcDictionary, ctcGreedyDecode } from '../../src/util/ctc-greedy.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { fcParams } from '../prop/arbitraries.ts';

async function runOnnx(bytes: Uint8Array, x: Float32Array, shape: readonly number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ [s.inputNames[0] as string]: new ort.Tensor('float32', x, [...shape]) });
  const out = Float32Array.from((r[s.outputNames[0] as string] as ort.Tensor).data as Float32Array);
  await s.release();
  return out;
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs((got[i] as number) - (want[i] as number)));
    m = Math.max(m, Math.abs(want[i] as number));
  }
  return d / (m || 1);
}

/** x[1,4,6,6] -> conv 3x3 (+bias) -> relu -> conv 1x1 groups 2 -> global pool -> [1,8] -> gemm (+bias). */
function smallCnn(seed: number): Graph {
  const r = mulberry32(seed);
  const b = new GraphBuilder('cnn');
  const x = b.input('x', 'f32', [1, 4, 6, 6]);
  const w1 = b.initializer('w1', tensor('f32', [8, 4, 3, 3], uniformF32(288, r)));
  const b1 = b.initializer('b1', tensor('f32', [8], uniformF32(8, r)));
  const w2 = b.initializer('w2', tensor('f32', [8, 4, 1, 1], uniformF32(32, r)));
  const w3 = b.initializer('w3', tensor('f32', [5, 8], uniformF32(40, r)));
  const b3 = b.initializer('b3', tensor('f32', [5], uniformF32(5, r)));
  const c1 = b.op('relu', [b.op('conv2d', [x, w1, b1], { pads: [1, 1, 1, 1] })]);
  const c2 = b.op('conv2d', [c1, w2], { group: 2 });
  const p = b.op('reshape', [b.op('global_avg_pool', [c2])], { shape: [1, 8] });
  b.output(b.op('gemm', [p, w3, b3], { transB: 1 }));
  return b.build();
}

describe('fake quantization', () => {
  it('a fake-quantized weight is dequantize(quantizeMatrix(...))', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 70 }), fc.constantFrom(0, 7, 32), fc.boolean(), fc.nat(), (bits, N, K, group, rtn, seed) => {
      const w = uniformF32(N * K, mulberry32(seed));
      const o = { bits, group, symmetric: bits >= 4, method: rtn ? 'rtn' as const : 'mse' as const };
      expect(Array.from(fakeQuantWeight(w, N, K, o))).toEqual(Array.from(dequantize(quantizeMatrix(w, N, K, o).weight)));
    }), fcParams(50));
  });

  it('the dequantized graph computes what the quantized graph computes (convs and gemm, interpreter)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 8 }), fc.constantFrom(0, 16, 128), fc.nat(), (bits, group, seed) => {
      const g = smallCnn(seed);
      const q = quantizePass({ bits, convBits: bits, group, keepEnds: false }).run(g, passContext()).graph;
      const fq = dequantizeGraph(q);
      expect(q.nodes.filter((n) => n.op.endsWith('_nbits')).length).toBe(3);
      expect(fq.graph.nodes.filter((n) => n.op.endsWith('_nbits'))).toEqual([]);
      expect([fq.convs, fq.matmuls, fq.sites.length]).toEqual([2, 1, 0]);
      const x = ndarray([1, 4, 6, 6], uniformF32(144, mulberry32(seed + 1)));
      const want = interpret(q, { x }).get(q.outputs[0] as string)?.data as Float64Array;
      const got = interpret(fq.graph, { x }).get(fq.graph.outputs[0] as string)?.data as Float64Array;
      expect(relErr(got, want)).toBeLessThan(1e-6);
    }), fcParams(20));
  });

  it('ONNX activation sites quantize matmul rows and conv pixels with the act.ts grid', async () => {
    const r = mulberry32(7);
    const [M, K, N, C, H, W] = [5, 37, 6, 3, 4, 5];
    const wm = uniformF32(N * K, r);
    const wc = uniformF32(N * C, r);
    const bm = new GraphBuilder('m');
    bm.output(bm.op('gemm', [bm.input('x', 'f32', [M, K]), bm.initializer('w', tensor('f32', [N, K], wm))], { transB: 1 }));
    const bc = new GraphBuilder('c');
    bc.output(bc.op('conv2d', [bc.input('x', 'f32', [1, C, H, W]), bc.initializer('w', tensor('f32', [N, C, 1, 1], wc))]));
    for (const bits of [8, 4]) {
      const xm = uniformF32(M * K, r, 3);
      const qm = quantizePass({ bits: 8, keepEnds: false }).run(bm.build(), passContext()).graph;
      const fm = dequantizeGraph(qm, { simulateActBits: bits });
      expect(fm.sites.map((s) => [s.axis, s.simulated])).toEqual([[-1, true]]);
      const wq = fakeQuantWeight(wm, N, K, { bits: 8, group: 128, symmetric: true, method: 'mse' });
      const xq = fakeQuantActRows(xm, M, K, bits);
      const want = Float64Array.from({ length: M * N }, (_, i) => {
        let s = 0;
        for (let k = 0; k < K; k++) s += (xq[Math.floor(i / N) * K + k] as number) * (wq[(i % N) * K + k] as number);
        return s;
      });
      expect(relErr(await runOnnx(exportFakeQuantOnnx(fm), xm, [M, K]), want)).toBeLessThan(1e-5);

      const xc = uniformF32(C * H * W, r, 2);
      const fc1 = dequantizeGraph(quantizePass({ bits: 8, keepEnds: false }).run(bc.build(), passContext()).graph, { simulateActBits: bits });
      expect(fc1.sites.map((s) => s.axis)).toEqual([1]);
      const wcq = fakeQuantWeight(wc, N, C, { bits: 8, group: 128, symmetric: true, method: 'mse' });
      // One grid per pixel over the C channels: gather the pixel's channel vector, quantize, conv 1x1.
      const wantC = new Float64Array(N * H * W);
      for (let p = 0; p < H * W; p++) {
        const v = fakeQuantActRows(Array.from({ length: C }, (_, c) => xc[c * H * W + p] as number), 1, C, bits);
        for (let o = 0; o < N; o++) for (let c = 0; c < C; c++) wantC[o * H * W + p] = (wantC[o * H * W + p] as number) + (wcq[o * C + c] as number) * (v[c] as number);
      }
      expect(relErr(await runOnnx(exportFakeQuantOnnx(fc1), xc, [1, C, H, W]), wantC)).toBeLessThan(1e-5);
    }
  });

  it('quantize_act + matmul_nbits(act_bits=8) fake-quantizes to its integer reference', async () => {
    const r = mulberry32(11);
    const [M, K, N] = [4, 45, 7];
    const q = quantizeMatrix(uniformF32(N * K, r), N, K, { bits: 4, group: 32, symmetric: true, method: 'rtn' });
    const b = new GraphBuilder('wxa8');
    const a = b.op('quantize_act', [b.input('x', 'f32', [M, K])], { bits: 8, layout: 'dense' });
    const w = q.weight;
    b.output(b.op('matmul_nbits', [a, b.initializer('wq', tensor('u32', [w.words.length], w.words)), b.initializer('s', tensor('f32', [N, 2], w.scales)), b.initializer('z', tensor('f32', [N, 2], w.zeros))], {
      N, K, bits: 4, group: 32, layout: 'dense', act_bits: 8, act_layout: 'dense', levels: 16,
    }));
    const g = b.build();
    const x = uniformF32(M * K, r, 2);
    const want = interpret(g, { x: ndarray([M, K], x) }).get(g.outputs[0] as string)?.data as Float64Array;
    const fq = dequantizeGraph(g);
    expect(fq.sites.map((s) => [s.bits, s.simulated])).toEqual([[8, false]]);
    expect(relErr(await runOnnx(exportFakeQuantOnnx(fq), x, [M, K]), want)).toBeLessThan(1e-5);
  });
});

describe('greedy CTC decoding', () => {
  it('collapses repeats, drops blanks, keeps repeats split by a blank', () => {
    expect(ctcCollapse([0, 3, 3, 0, 3, 5, 5, 0, 0, 2])).toEqual([3, 3, 5, 2]);
    expect(ctcCollapse([0, 0])).toEqual([]);
  });

  it('decodes per-step arg-max with the PP-OCR dictionary layout (blank first, space last)', () => {
    const dict = ctcDictionary('a\nb\nc\n');
    expect(dict).toEqual(['', 'a', 'b', 'c', ' ']);
    const steps = [1, 1, 0, 1, 4, 2, 2, 3];
    const probs = steps.flatMap((c) => Array.from({ length: 5 }, (_, j) => (j === c ? 0.6 : 0.1)));
    expect(ctcGreedyDecode(probs, steps.length, 5, dict)).toBe('aa bc');
    expect(() => ctcGreedyDecode(probs, steps.length, 5, dict.slice(1))).toThrow(/4 classes/);
  });
});
