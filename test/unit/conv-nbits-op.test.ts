// The conv2d_nbits op entry: hand-checked outputs (codes, scales and zeros dequantized on paper,
// a short last quantization group, channel groups), inference errors users see, the reference
// equal to conv2d over dequantized weights under stride/pad/dilation, cost, and the .abir round trip.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { parseGraph } from '../../src/ir/parse.ts';
import { printGraph } from '../../src/ir/print.ts';
import { ndarray, tensor, type NdArray, type TensorType } from '../../src/ir/tensor.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { dequantize, packCodes } from '../../src/quant/format.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { expectSameGraph } from '../helpers/graph-equal.ts';

const op = getOp('conv2d_nbits');
const nd = (shape: number[], data: ArrayLike<number>): NdArray => ndarray(shape, data);
// X [1, 2, 2, 3]: channel 0 = [[1,2,3],[4,5,6]], channel 1 = [[0,1,0],[2,0,-1]].
const X = nd([1, 2, 2, 3], [1, 2, 3, 4, 5, 6, 0, 1, 0, 2, 0, -1]);

function run(ins: NdArray[], attrs: Attrs): NdArray {
  const types = ins.map((a, i): TensorType => ({ dtype: i === 1 ? 'u32' : 'f32', shape: a.shape }));
  const inferred = op?.infer(types, attrs);
  if (typeof inferred === 'string' || !inferred) throw new Error(String(inferred));
  const [y] = op!.reference(ins, attrs);
  expect(y?.shape).toEqual(inferred[0]?.shape);
  return y as NdArray;
}

describe('conv2d_nbits', () => {
  it('hand-checked: one 2-bit row with quant groups of 3, 3 and a short 2, plus bias', () => {
    // codes 0,1,2,3,3,2,1,0 at 2 bits: 4 + 32 + 192 + 768 + 2048 + 4096 = 7140.
    const words = packCodes([0, 1, 2, 3, 3, 2, 1, 0], 1, 8, 2, 'dense');
    expect([...words]).toEqual([7140]);
    // scales [1, 0.5, 2], zeros [1, 2, 1.5] -> W c0 = [[-1, 0], [1, 0.5]], c1 = [[0.5, 0], [-1, -3]].
    const attrs = { kernel_shape: [2, 2], N: 1, K: 8, bits: 2, group: 3 };
    const y = run([X, nd([1], words), nd([1, 3], [1, 0.5, 2]), nd([1, 3], [1, 2, 1.5]), nd([1], [0.25])], attrs);
    // ox=0: (-1 + 4 + 2.5) + (-2) + 0.25; ox=1: (-2 + 5 + 3) + (0.5 + 3) + 0.25.
    expect(y.shape).toEqual([1, 1, 1, 2]);
    expect([...y.data]).toEqual([3.75, 9.75]);
  });

  it('hand-checked: channel groups (groups=2), per-channel quantization, stride 2 and a top pad', () => {
    // row 0: codes 0..3, scale 1, zero 1 -> [[-1, 0], [1, 2]]; row 1: codes 3..0, scale 0.5, zero 2 -> [[0.5, 0], [-0.5, -1]].
    const words = packCodes([0, 1, 2, 3, 3, 2, 1, 0], 2, 4, 2, 'dense');
    const ins = [X, nd([2], words), nd([2, 1], [1, 0.5]), nd([2, 1], [1, 2])];
    const y = run(ins, { kernel_shape: [2, 2], N: 2, K: 4, bits: 2, group: 4, groups: 2 });
    expect([...y.data]).toEqual([13, 15, -1, 1.5]);
    // stride 2 along W keeps ox = 0 only; a top pad adds a row that sees zeros above the image.
    const s = run(ins, { kernel_shape: [2, 2], N: 2, K: 4, bits: 2, group: 4, groups: 2, strides: [1, 2], pads: [1, 0, 0, 0] });
    // oy=0 sees the pad row, then image row 0: ch0 = [1, 2]·[1, 2] = 5; ch1 = [-0.5, -1]·[0, 1] = -1.
    expect(s.shape).toEqual([1, 2, 2, 1]);
    expect([...s.data]).toEqual([5, 13, -1, -1]);
  });

  it('reports bad words, scales, K and channel counts in one line', () => {
    const f32 = (shape: number[]): TensorType => ({ dtype: 'f32', shape });
    const attrs = { kernel_shape: [3, 3], N: 4, K: 18, bits: 3, group: 8 };
    // 4 rows of ceil(18*3/32) = 2 words; 3 groups of 8 along K = 18.
    const ok = [f32([1, 2, 7, 7]), { dtype: 'u32', shape: [8] } as TensorType, f32([4, 3]), f32([4, 3])];
    expect(op?.infer(ok, attrs)).toEqual([{ dtype: 'f32', shape: [1, 4, 5, 5] }]);
    expect(op?.infer([ok[0]!, { dtype: 'u32', shape: [9] }, ok[2]!, ok[3]!], attrs)).toMatch(/words must be u32\[8\]/);
    expect(op?.infer([ok[0]!, ok[1]!, f32([4, 2]), ok[3]!], attrs)).toMatch(/scales must be f32\[4,3\]/);
    expect(op?.infer(ok, { ...attrs, K: 17 })).toMatch(/K=17 is not a multiple of the kernel's 3x3 taps/);
    expect(op?.infer([f32([1, 3, 7, 7]), ...ok.slice(1)], attrs)).toMatch(/^conv2d_nbits: X has 3 channels, W expects 2 x groups 1/);
    expect(op?.infer([...ok, f32([3])], attrs)).toMatch(/bias must have shape \[4\]/);
    expect(op?.infer(ok, { ...attrs, bits: 0 })).toMatch(/bits in 1\.\.8/);
    expect(op?.infer(ok, { ...attrs, groups: 3 })).toMatch(/not divisible by groups 3/);
    expect(op?.infer(ok, { ...attrs, act_bits: 8 })).toMatch(/f32 activations only/);
  });

  it('reference equals conv2d over the dequantized weight (stride, pads, dilation, groups, planes)', () => {
    const rand = mulberry32(11);
    for (const [layout, bits, group, groups] of [['dense', 5, 7, 1], ['planes', 3, 128, 3], ['dense', 8, 4, 3]] as const) {
      const M = 6;
      const Cg = 2;
      const K = Cg * 3 * 2;
      const q = quantizeMatrix(uniformF32(M * K, rand), M, K, { bits, group, symmetric: bits > 4, method: 'rtn', layout }).weight;
      const x = nd([2, Cg * groups, 7, 6], uniformF32(2 * Cg * groups * 42, rand));
      const b = nd([M], uniformF32(M, rand));
      const conv = { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] };
      const y = run([x, nd([q.words.length], q.words), nd([M, q.scales.length / M], q.scales), nd([M, q.zeros.length / M], q.zeros), b],
        { ...conv, groups, kernel_shape: [3, 2], N: M, K, bits, group: q.group, layout });
      const [want] = getOp('conv2d')!.reference([x, nd([M, Cg, 3, 2], dequantize(q)), b], { ...conv, group: groups });
      expect(y.shape).toEqual(want?.shape);
      expect([...y.data]).toEqual([...want!.data]);
    }
  });

  it('costs 2·K flops per output and counts the packed words; round-trips through .abir', () => {
    const q = quantizeMatrix(uniformF32(4 * 18, mulberry32(2)), 4, 18, { bits: 3, group: 8, symmetric: false, method: 'rtn' }).weight;
    const g = new GraphBuilder('qc');
    const x = g.input('x', 'f32', [1, 2, 7, 7]);
    const ins = [x, g.initializer('w', tensor('u32', [q.words.length], q.words)),
      g.initializer('s', tensor('f32', [4, 3], q.scales)), g.initializer('z', tensor('f32', [4, 3], q.zeros))];
    g.output(g.op('conv2d_nbits', ins, { kernel_shape: [3, 3], N: 4, K: 18, bits: 3, group: 8, pads: [1, 1, 1, 1], layout: 'dense' }, { name: 'c' }));
    const graph = g.build();
    const n = graph.nodes[0]!;
    const cost = op!.cost(n.inputs.map((v) => graph.values.get(v)!), [graph.values.get('c')!], n.attrs);
    expect(cost.flops).toBe(2 * 4 * 49 * 18);
    expect(cost.bytes).toBe(98 * 4 + (q.words.length + 24) * 4 + 4 * 49 * 4);
    expectSameGraph(parseGraph(printGraph(graph, { data: true })), graph);
  });
});
