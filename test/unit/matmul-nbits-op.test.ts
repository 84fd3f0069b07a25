// The matmul_nbits op entry: type inference (and its error messages), the float64 reference
// against a hand-rolled A · dequant(W)^T + C, cost from the packed size, the .abir text round
// trip with u32 words, and the tuner's verification inputs for packed words (raw u32 bits).

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { parseGraph } from '../../src/ir/parse.ts';
import { printGraph } from '../../src/ir/print.ts';
import { ndarray, tensor, type TensorType } from '../../src/ir/tensor.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { dequantize, type PackedLayout } from '../../src/quant/format.ts';
import { referenceFor } from '../../src/tuner/verify.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { expectSameGraph } from '../helpers/graph-equal.ts';

const op = getOp('matmul_nbits');

function quantGraph(N: number, K: number, bits: number, group: number, layout: PackedLayout, bias: boolean) {
  const rand = mulberry32(N * 1000 + K);
  const q = quantizeMatrix(uniformF32(N * K, rand), N, K, { bits, group, symmetric: false, method: 'rtn', layout }).weight;
  const b = new GraphBuilder('q');
  const a = b.input('a', 'f32', [2, 3, K]);
  const ins = [a,
    b.initializer('w', tensor('u32', [q.words.length], q.words)),
    b.initializer('s', tensor('f32', [N, q.scales.length / N], q.scales)),
    b.initializer('z', tensor('f32', [N, q.zeros.length / N], q.zeros))];
  const c = uniformF32(N, rand);
  if (bias) ins.push(b.initializer('c', tensor('f32', [N], c)));
  b.output(b.op('matmul_nbits', ins, { N, K, bits, group: q.group, layout }, { name: 'mm' }));
  return { g: b.build(), q, c };
}

describe('matmul_nbits', () => {
  it('is registered and infers [..., M, N]', () => {
    expect(op?.category).toBe('matmul');
    const { g } = quantGraph(5, 37, 3, 16, 'dense', true);
    expect(g.values.get('mm')?.shape).toEqual([2, 3, 5]);
  });

  it('rejects words, scales, bias or K that do not fit the attributes', () => {
    const f32 = (shape: number[]): TensorType => ({ dtype: 'f32', shape });
    const attrs = { N: 4, K: 10, bits: 3, group: 4, layout: 'dense' };
    const ok = [f32([2, 10]), { dtype: 'u32', shape: [4] } as TensorType, f32([4, 3]), f32([4, 3])];
    expect(op?.infer(ok, attrs)).toEqual([{ dtype: 'f32', shape: [2, 4] }]);
    expect(op?.infer([ok[0]!, { dtype: 'u32', shape: [5] }, ok[2]!, ok[3]!], attrs)).toMatch(/words must be u32\[4\]/);
    expect(op?.infer([ok[0]!, { dtype: 'f32', shape: [4] }, ok[2]!, ok[3]!], attrs)).toMatch(/words must be u32/);
    expect(op?.infer([ok[0]!, ok[1]!, f32([4, 2]), ok[3]!], attrs)).toMatch(/scales must be f32\[4,3\]/);
    expect(op?.infer([...ok, f32([3])], attrs)).toMatch(/bias must be f32\[4\]/);
    expect(op?.infer([f32([2, 9]), ...ok.slice(1)], attrs)).toMatch(/A has K=9/);
    expect(op?.infer(ok, { ...attrs, bits: 9 })).toMatch(/bits in 1\.\.8/);
    expect(op?.infer(ok, { ...attrs, layout: 'rows' })).toMatch(/layout must be/);
    // planes: bits * N * ceil(K / 32) words.
    expect(op?.infer([ok[0]!, { dtype: 'u32', shape: [12] }, ok[2]!, ok[3]!], { ...attrs, layout: 'planes' })).toHaveLength(1);
  });

  it('reference equals A · dequant(W)^T + C over flattened batch rows', () => {
    for (const layout of ['dense', 'planes'] as const) {
      const N = 6;
      const K = 45;
      const { g, q, c } = quantGraph(N, K, 5, 8, layout, true);
      const W = dequantize(q);
      const a = ndarray([2, 3, K], uniformF32(6 * K, mulberry32(3)));
      const ins = g.nodes[0]!.inputs.map((v) => (v === 'a' ? a : ndarray(g.initializers.get(v)!.shape, g.initializers.get(v)!.data)));
      const [y] = op!.reference(ins, g.nodes[0]!.attrs);
      for (let m = 0; m < 6; m++) {
        for (let n = 0; n < N; n++) {
          let s = c[n] as number;
          for (let k = 0; k < K; k++) s += (a.data[m * K + k] as number) * (W[n * K + k] as number);
          expect(y!.data[m * N + n]).toBeCloseTo(s, 12);
        }
      }
    }
  });

  it('costs 2·M·N·K flops and counts the packed words, not float weights', () => {
    const { g, q } = quantGraph(8, 64, 2, 32, 'dense', false);
    const n = g.nodes[0]!;
    const cost = op!.cost(n.inputs.map((v) => g.values.get(v)!), [g.values.get('mm')!], n.attrs);
    expect(cost.flops).toBe(2 * 6 * 8 * 64);
    const packed = (q.words.length + q.scales.length + q.zeros.length) * 4;
    expect(cost.bytes).toBe(6 * 64 * 4 + packed + 6 * 8 * 4);
  });

  it('round-trips through the .abir text with its u32 words', () => {
    const { g } = quantGraph(3, 70, 7, 32, 'planes', true);
    expectSameGraph(parseGraph(printGraph(g, { data: true })), g);
  });

  it('tuner verification feeds packed words as raw u32 bit patterns', () => {
    const { g } = quantGraph(3, 40, 4, 16, 'dense', false);
    const sub = { ...g, inputs: ['a', 'w', 's', 'z'], initializers: new Map() };
    const ref = referenceFor(sub, 5);
    const words = new Uint32Array(ref.inputs[1]!.buffer);
    expect(words.some((w) => w > 2 ** 24)).toBe(true);
    // The expected output is the interpreter on exactly those words.
    const ins = ['a', 's', 'z'].map((v, i) => ndarray(g.values.get(v)!.shape as number[], ref.inputs[[0, 2, 3][i]!]!));
    const [y] = op!.reference([ins[0]!, ndarray([words.length], words), ins[1]!, ins[2]!], g.nodes[0]!.attrs);
    expect(Array.from(ref.expected)).toEqual(Array.from(y!.data));
  });
});
