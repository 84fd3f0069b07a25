// Op table references against hand-checked values (worked out on paper or with Python's
// math module), and the inference errors users see for bad shapes.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, IrError } from '../../src/ir/builder.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { getOp, OP_TABLE } from '../../src/ir/op-table.ts';
import { UNARY } from '../../src/ir/ops/elementwise.ts';
import { erf } from '../../src/ir/ops/helpers.ts';
import type { Shape } from '../../src/ir/shape.ts';
import { ndarray, type NdArray, type TensorType } from '../../src/ir/tensor.ts';

function run(op: string, ins: NdArray[], attrs: Attrs = {}): NdArray {
  const def = getOp(op);
  if (!def) throw new Error(`no op ${op}`);
  const inferred = def.infer(ins.map((x) => ({ dtype: 'f32', shape: x.shape })), attrs);
  if (typeof inferred === 'string') throw new Error(inferred);
  const [out] = def.reference(ins, attrs);
  expect(out?.shape).toEqual(inferred[0]?.shape);
  return out as NdArray;
}

const nd = (shape: number[], data: number[]): NdArray => ndarray(shape, data);
const vals = (x: NdArray): number[] => [...x.data];
const t = (shape: Shape, dtype: TensorType['dtype'] = 'f32'): TensorType => ({ dtype, shape });

function inferError(op: string, ins: TensorType[], attrs: Attrs = {}): string {
  const r = getOp(op)?.infer(ins, attrs);
  if (typeof r !== 'string') throw new Error(`expected ${op} inference to fail, got ${JSON.stringify(r)}`);
  return r;
}

const A23 = nd([2, 3], [1, 2, 3, 4, 5, 6]);
const B32 = nd([3, 2], [7, 8, 9, 10, 11, 12]);
const AB = [58, 64, 139, 154];

describe('matmul', () => {
  it('2x3 · 3x2', () => {
    const y = run('matmul', [A23, B32]);
    expect(y.shape).toEqual([2, 2]);
    expect(vals(y)).toEqual(AB);
  });

  it('broadcasts batch dims', () => {
    const a = nd([2, 2, 2], [1, 0, 0, 1, 2, 0, 0, 2]);
    const b = nd([2, 2], [1, 2, 3, 4]);
    const y = run('matmul', [a, b]);
    expect(y.shape).toEqual([2, 2, 2]);
    expect(vals(y)).toEqual([1, 2, 3, 4, 2, 4, 6, 8]);
    const y2 = run('matmul', [nd([1, 2, 1], [1, 2]), nd([3, 1, 2], [1, 1, 2, 2, 3, 3])]);
    expect(y2.shape).toEqual([3, 2, 2]);
    expect(vals(y2)).toEqual([1, 1, 2, 2, 2, 2, 4, 4, 3, 3, 6, 6]);
  });

  it('reports mismatched inner dims and low rank', () => {
    expect(inferError('matmul', [t([2, 3]), t([2, 3])])).toBe('matmul inner dimensions differ: A has K=3, B has K=2');
    expect(inferError('matmul', [t([3]), t([3, 2])])).toMatch(/rank >= 2, got 1 and 2/);
    expect(inferError('matmul', [t([2, 2, 3]), t([3, 3, 2])])).toMatch(/batch dims: .*do not broadcast/);
    expect(inferError('matmul', [t([2, 3]), t([3, 2], 'i32')])).toMatch(/float operands/);
  });
});

describe('gemm', () => {
  it('plain, transA, transB', () => {
    expect(vals(run('gemm', [A23, B32]))).toEqual(AB);
    const At = nd([3, 2], [1, 4, 2, 5, 3, 6]);
    const Bt = nd([2, 3], [7, 9, 11, 8, 10, 12]);
    expect(vals(run('gemm', [At, B32], { transA: 1 }))).toEqual(AB);
    expect(vals(run('gemm', [A23, Bt], { transB: 1 }))).toEqual(AB);
    expect(vals(run('gemm', [At, Bt], { transA: 1, transB: 1 }))).toEqual(AB);
  });

  it('alpha, beta and a broadcast C', () => {
    expect(vals(run('gemm', [A23, B32, nd([2], [1, 2])], { alpha: 2, beta: 0.5 }))).toEqual([116.5, 129, 278.5, 309]);
    expect(vals(run('gemm', [A23, B32, nd([2, 1], [10, 20])]))).toEqual([68, 74, 159, 174]);
    expect(vals(run('gemm', [A23, B32, nd([], [100])], { beta: -1 }))).toEqual([-42, -36, 39, 54]);
    expect(vals(run('gemm', [A23, B32, nd([2, 2], [1, 2, 3, 4])], { beta: 0 }))).toEqual(AB);
  });

  it('reports bad shapes', () => {
    expect(inferError('gemm', [t([2, 3]), t([2, 3])])).toBe('gemm inner dimensions differ: op(A) has K=3, op(B) has K=2');
    expect(inferError('gemm', [t([2, 3]), t([3, 2]), t([3])])).toBe('gemm C of shape [3] does not broadcast to [2,2]');
    expect(inferError('gemm', [t([2, 3, 1]), t([3, 2])])).toMatch(/rank-2 A and B, got rank 3 and 2/);
  });
});

describe('conv2d', () => {
  const x33 = nd([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const ones = (k: number): NdArray => nd([1, 1, k, k], new Array<number>(k * k).fill(1));

  it('valid 2x2 kernel', () => {
    const y = run('conv2d', [x33, nd([1, 1, 2, 2], [1, 0, 0, 1])]);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(vals(y)).toEqual([6, 8, 12, 14]);
  });

  it('padding and stride', () => {
    const y = run('conv2d', [x33, ones(3)], { pads: [1, 1, 1, 1], strides: [2, 2] });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(vals(y)).toEqual([12, 16, 24, 28]);
    expect(vals(run('conv2d', [x33, nd([1, 1, 1, 1], [1])], { strides: [2, 2] }))).toEqual([1, 3, 7, 9]);
  });

  it('asymmetric pads are [top, left, bottom, right]', () => {
    const y = run('conv2d', [x33, ones(2)], { pads: [1, 0, 0, 1] });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(vals(y)).toEqual([3, 5, 3, 12, 16, 9, 24, 28, 15]);
  });

  it('dilation', () => {
    const y = run('conv2d', [x33, ones(2)], { dilations: [2, 2] });
    expect(y.shape).toEqual([1, 1, 1, 1]);
    expect(vals(y)).toEqual([20]);
  });

  it('groups, depthwise and bias', () => {
    const x = nd([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
    const dw = run('conv2d', [x, nd([2, 1, 1, 1], [2, -1]), nd([2], [0.5, 1])], { group: 2 });
    expect(vals(dw)).toEqual([2.5, 4.5, 6.5, 8.5, -9, -19, -29, -39]);
    const x4 = nd([1, 4, 1, 1], [1, 2, 3, 4]);
    expect(vals(run('conv2d', [x4, nd([2, 2, 1, 1], [1, 1, 1, -1])], { group: 2 }))).toEqual([3, -1]);
    expect(vals(run('conv2d', [x4, nd([2, 4, 1, 1], [1, 1, 1, 1, 1, -1, 1, -1])]))).toEqual([10, -2]);
  });

  it('reports bad shapes', () => {
    expect(inferError('conv2d', [t([1, 3, 5, 5]), t([4, 2, 3, 3])])).toBe('conv2d: X has 3 channels, W expects 2 x group 1');
    expect(inferError('conv2d', [t([1, 4, 5, 5]), t([3, 2, 3, 3])], { group: 2 })).toBe('conv2d: 3 output channels not divisible by group 2');
    expect(inferError('conv2d', [t([1, 1, 2, 2]), t([1, 1, 3, 3])])).toMatch(/output would be empty/);
    expect(inferError('conv2d', [t([1, 1, 5, 5]), t([2, 1, 3, 3]), t([3])])).toBe('conv2d bias must have shape [2], got [3]');
    expect(inferError('conv2d', [t([1, 5, 5]), t([2, 1, 3, 3])])).toMatch(/rank-4 X and W, got rank 3 and 4/);
  });
});

describe('reshape and transpose', () => {
  const x = nd([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));

  it('reshape with 0 and -1 keeps the data', () => {
    expect(run('reshape', [x], { shape: [0, -1] }).shape).toEqual([2, 12]);
    expect(run('reshape', [x], { shape: [0, 0, -1] }).shape).toEqual([2, 3, 4]);
    expect(run('reshape', [x], { shape: [-1] }).shape).toEqual([24]);
    const y = run('reshape', [x], { shape: [4, 0, -1] });
    expect(y.shape).toEqual([4, 3, 2]);
    expect(vals(y)).toEqual(vals(x));
  });

  it('reshape errors and symbolic dims', () => {
    expect(inferError('reshape', [t([2, 3, 4])], { shape: [-1, -1] })).toBe('reshape allows at most one -1');
    expect(inferError('reshape', [t([2, 3, 4])], { shape: [5, -1] })).toBe('cannot reshape [2,3,4] to [5,-1]');
    expect(inferError('reshape', [t([2, 3, 4])], { shape: [5, 5] })).toBe('cannot reshape [2,3,4] (24 elements) to [5,5] (25 elements)');
    expect(inferError('reshape', [t(['batch', 4])], { shape: [-1] })).toMatch(/needs bound input dims/);
    expect(getOp('reshape')?.infer([t(['batch', 4])], { shape: [0, 2, 2] })).toEqual([t(['batch', 2, 2])]);
  });

  it('transpose: default reverses, perm permutes', () => {
    const y = run('transpose', [nd([2, 3], [1, 2, 3, 4, 5, 6])]);
    expect(y.shape).toEqual([3, 2]);
    expect(vals(y)).toEqual([1, 4, 2, 5, 3, 6]);
    const z = run('transpose', [x], { perm: [1, 2, 0] });
    expect(z.shape).toEqual([3, 4, 2]);
    // z[i, j, k] = x[k, i, j]; x[k, i, j] = 12k + 4i + j
    expect(z.data[(2 * 4 + 3) * 2 + 1]).toBe(12 + 8 + 3);
    expect(z.data[(1 * 4 + 0) * 2 + 0]).toBe(4);
    expect(inferError('transpose', [t([2, 3])], { perm: [0, 0] })).toBe('transpose perm [0,0] is not a permutation of 2 dims');
  });
});

describe('elementwise', () => {
  const unary = (op: string, x: number, attrs: Attrs = {}): number => run(op, [nd([1], [x])], attrs).data[0] as number;

  // [op, attrs, x, expected]; expected values from Python math (exact where they are exact).
  const cases: [string, Attrs, number, number][] = [
    ['relu', {}, -1, 0], ['relu', {}, 2.5, 2.5],
    ['leaky_relu', {}, -2, -0.02], ['leaky_relu', { alpha: 0.2 }, -2, -0.4], ['leaky_relu', {}, 3, 3],
    ['sigmoid', {}, 0, 0.5], ['sigmoid', {}, 1, 0.7310585786300049], ['sigmoid', {}, -1, 0.2689414213699951],
    ['tanh', {}, 0.5, 0.46211715726000974], ['tanh', {}, 0, 0],
    ['gelu', {}, 1, 0.8413447460685429], ['gelu', {}, -1, -0.15865525393145707], ['gelu', {}, 3, 2.99595030590511],
    ['gelu', {}, 0, 0], ['gelu', { approximate: 'tanh' }, 1, 0.8411919906082768],
    ['silu', {}, 1, 0.7310585786300049], ['silu', {}, -1, -0.2689414213699951],
    ['hardsigmoid', {}, 1, 0.7], ['hardsigmoid', {}, -3, 0], ['hardsigmoid', {}, 3, 1], ['hardsigmoid', { alpha: 0.5, beta: 0 }, 1, 0.5],
    ['hardswish', {}, 1, 2 / 3], ['hardswish', {}, -1, -1 / 3], ['hardswish', {}, -3, 0], ['hardswish', {}, 3, 3],
    ['clip', {}, 1e30, 1e30], ['clip', { min: -1, max: 1 }, 5, 1], ['clip', { min: -1, max: 1 }, -5, -1], ['clip', { min: -1, max: 1 }, 0.5, 0.5],
    ['sqrt', {}, 2, 1.4142135623730951], ['sqrt', {}, 0, 0],
    ['exp', {}, 1, Math.E], ['exp', {}, 0, 1],
    ['abs', {}, -3, 3], ['neg', {}, 2, -2],
    ['erf', {}, 0.5, 0.5204998778130465], ['erf', {}, -1, -0.8427007929497149], ['erf', {}, 0, 0],
    ['affine', {}, 1.5, 1.5], ['affine', { scale: -2, shift: 0.25 }, 1.5, -2.75], ['affine', { shift: 3 }, -1, 2],
  ];

  it('covers every unary op', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(Object.keys(UNARY)));
  });

  for (const [op, attrs, x, want] of cases) {
    it(`${op}(${x}${Object.keys(attrs).length ? `, ${JSON.stringify(attrs)}` : ''}) = ${want}`, () => {
      expect(unary(op, x, attrs)).toBeCloseTo(want, 14);
    });
  }

  it('sqrt of a negative is NaN', () => {
    expect(unary('sqrt', -1)).toBeNaN();
  });

  it('erf matches reference values to 1e-14', () => {
    const table: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [2.5, 0.999593047982555], [2.9, 0.9999589021219005], [3, 0.9999779095030014],
      [3.5, 0.9999992569016276], [4, 0.9999999845827421], [5, 0.9999999999984626], [6, 1],
    ];
    for (const [x, want] of table) {
      expect(Math.abs(erf(x) - want)).toBeLessThan(1e-14);
      expect(Math.abs(erf(-x) + want)).toBeLessThan(1e-14);
    }
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
  });

  it('binary ops broadcast both ways', () => {
    const a = nd([2, 1], [1, 2]);
    const b = nd([3], [10, 20, 30]);
    expect(run('add', [a, b]).shape).toEqual([2, 3]);
    expect(vals(run('add', [a, b]))).toEqual([11, 21, 31, 12, 22, 32]);
    expect(vals(run('sub', [a, b]))).toEqual([-9, -19, -29, -8, -18, -28]);
    expect(vals(run('mul', [b, a]))).toEqual([10, 20, 30, 20, 40, 60]);
    expect(vals(run('div', [b, a]))).toEqual([10, 20, 30, 5, 10, 15]);
    expect(vals(run('pow', [a, nd([], [3])]))).toEqual([1, 8]);
  });

  it('reports non-broadcastable shapes and non-float inputs', () => {
    expect(inferError('add', [t([2, 3]), t([4])])).toBe('shapes [2,3] and [4] do not broadcast (dim 1: 3 vs 4)');
    expect(inferError('mul', [t([2]), t([2], 'f16')])).toBe('mul operands have different dtypes (f32 vs f16)');
    expect(inferError('relu', [t([2], 'i32')])).toBe('relu needs a float input, got i32');
  });
});

describe('builder errors name the node', () => {
  it('shape mismatch', () => {
    const b = new GraphBuilder('g');
    b.input('x', 'f32', [2, 3]);
    expect(() => b.op('matmul', ['x', 'x'], {}, { name: 'mm' })).toThrow(IrError);
    expect(() => b.op('matmul', ['x', 'x'], {}, { name: 'mm' })).toThrow("node 'mm' (matmul): matmul inner dimensions differ: A has K=3, B has K=2 [inputs: f32[2,3], f32[2,3]]");
    expect(() => b.op('nope', ['x'])).toThrow("node 'nope': unknown op 'nope'");
    expect(() => b.op('relu', ['x', 'x'])).toThrow(/takes 1\.\.1 inputs, got 2/);
  });

  it('every op in the table has a hand-checked test above', () => {
    const tested = new Set([...Object.keys(UNARY), 'add', 'sub', 'mul', 'div', 'pow', 'matmul', 'gemm', 'conv2d', 'reshape', 'transpose']);
    // Hand-checked in transformer-ops.test.ts.
    for (const o of ['reduce_sum', 'reduce_mean', 'reduce_max', 'softmax', 'log_softmax', 'layer_norm', 'rms_norm', 'gather', 'squeeze', 'unsqueeze', 'flatten', 'identity', 'cast']) tested.add(o);
    // Hand-checked in cnn-ops.test.ts.
    for (const o of ['max_pool2d', 'avg_pool2d', 'global_avg_pool', 'resize', 'depth_to_space', 'pad', 'slice', 'concat', 'split', 'batch_norm', 'conv_transpose2d']) tested.add(o);
    // Hand-checked in matmul-nbits-op.test.ts.
    tested.add('matmul_nbits');
    // Hand-checked in conv-nbits-op.test.ts.
    tested.add('conv2d_nbits');
    // Hand-checked in quant-act.test.ts.
    tested.add('quantize_act');
    expect([...OP_TABLE.keys()].filter((o) => !tested.has(o))).toEqual([]);
  });
});
