// Hand-checked values for the float64 references of the transformer/reduction ops (softmax,
// log_softmax, reduce_*, layer_norm, rms_norm, erf, gather, views, cast) and the error strings
// their inference gives for user mistakes. No GPU.

import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../src/cli/errors.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { getOp } from '../../src/ir/op-table.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { ndarray, tensor, type TensorType } from '../../src/ir/tensor.ts';
import type { Shape } from '../../src/ir/shape.ts';

function run(op: string, inputs: readonly { shape: number[]; data: number[] }[], attrs: Attrs = {}): { shape: readonly number[]; data: number[] } {
  const def = getOp(op);
  if (!def) throw new Error(`no op ${op}`);
  const [out] = def.reference(inputs.map((i) => ndarray(i.shape, i.data)), attrs);
  return { shape: out?.shape ?? [], data: [...(out?.data ?? [])] };
}

function infer(op: string, types: readonly [string, Shape][], attrs: Attrs = {}): TensorType[] | string {
  return (getOp(op) as NonNullable<ReturnType<typeof getOp>>).infer(types.map(([dtype, shape]) => ({ dtype, shape }) as TensorType), attrs);
}

const close = (got: number[], want: number[]): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i] as number, 7));
};

describe('softmax / log_softmax references', () => {
  it('match hand-computed values along the last axis and along axis 0', () => {
    close(run('softmax', [{ shape: [3], data: [1, 2, 3] }]).data, [0.09003057317038046, 0.24472847105479767, 0.6652409557748219]);
    close(run('log_softmax', [{ shape: [3], data: [1, 2, 3] }]).data, [-2.4076059644443806, -1.4076059644443806, -0.4076059644443803]);
    close(run('softmax', [{ shape: [2, 2], data: [1, 2, 3, 4] }], { axis: 0 }).data, [0.11920292202211755, 0.11920292202211755, 0.8807970779778823, 0.8807970779778823]);
  });
  it('subtract the max: huge inputs stay finite', () => {
    close(run('softmax', [{ shape: [2], data: [1000, 1000] }]).data, [0.5, 0.5]);
    close(run('log_softmax', [{ shape: [2], data: [1000, 0] }]).data, [0, -1000]);
  });
});

describe('reduce references', () => {
  const x = { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] };
  it('sum, mean and max over axis sets with and without keepdims', () => {
    expect(run('reduce_sum', [x], { axes: [1], keepdims: 0 })).toEqual({ shape: [2], data: [6, 15] });
    expect(run('reduce_sum', [x], {})).toEqual({ shape: [1, 1], data: [21] });
    expect(run('reduce_mean', [x], { axes: [-2], keepdims: 1 })).toEqual({ shape: [1, 3], data: [2.5, 3.5, 4.5] });
    expect(run('reduce_max', [x], { axes: [1, 0], keepdims: 0 })).toEqual({ shape: [], data: [6] });
    expect(run('reduce_max', [{ shape: [2, 2], data: [-5, -7, -1, -9] }], { axes: [0], keepdims: 0 }).data).toEqual([-1, -7]);
  });
  it('give clear inference errors', () => {
    expect(infer('reduce_sum', [['f32', [2, 3]]], { axes: [2] })).toBe('reduce_sum axis 2 is out of range for rank 2');
    expect(infer('reduce_mean', [['f32', [2, 3]]], { axes: [1, -1] })).toBe('reduce_mean axis -1 is given twice');
    expect(infer('reduce_max', [['i32', [2]]], {})).toBe('reduce_max needs a float input, got i32');
    expect(infer('softmax', [['f32', ['N', 3]]], { axis: -3 })).toBe('softmax axis -3 is out of range for rank 2');
    expect(infer('reduce_sum', [['f32', ['N', 3]]], { axes: [1], keepdims: 0 })).toEqual([{ dtype: 'f32', shape: ['N'] }]);
  });
});

describe('layer_norm / rms_norm references', () => {
  it('layer_norm normalizes trailing dims, then scales and shifts', () => {
    close(run('layer_norm', [{ shape: [1, 3], data: [1, 2, 3] }, { shape: [3], data: [1, 1, 1] }], { epsilon: 0 }).data, [-1.224744871391589, 0, 1.224744871391589]);
    close(run('layer_norm', [{ shape: [3], data: [1, 2, 3] }, { shape: [1], data: [2] }, { shape: [3], data: [1, 1, 1] }], { epsilon: 0 }).data,
      [-1.449489742783178, 1, 3.449489742783178]);
    // axis 0 of [2, 2]: one group of all four values (mean 2.5, variance 1.25).
    close(run('layer_norm', [{ shape: [2, 2], data: [1, 2, 3, 4] }, { shape: [2, 2], data: [1, 1, 1, 1] }], { axis: 0, epsilon: 0 }).data,
      [-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738]);
  });
  it('rms_norm divides by the root mean square (plus epsilon)', () => {
    close(run('rms_norm', [{ shape: [2], data: [3, 4] }, { shape: [2], data: [1, 2] }], { epsilon: 0 }).data, [0.848528137423857, 2.262741699796952]);
    close(run('rms_norm', [{ shape: [1], data: [0] }, { shape: [1], data: [1] }], { epsilon: 1e-5 }).data, [0]);
  });
  it('give clear inference errors', () => {
    expect(infer('layer_norm', [['f32', [2, 3]], ['f32', [2]]])).toBe('layer_norm scale [2] does not broadcast to the normalized dims [3]');
    expect(infer('rms_norm', [['f32', [2, 3]], ['f32', [3]]], { axis: 2 })).toBe('rms_norm axis 2 is out of range for rank 2');
  });
});

describe('erf, gather, views and cast references', () => {
  it('erf matches tabulated values', () => {
    close(run('erf', [{ shape: [4], data: [0, 0.5, -1, 3] }]).data, [0, 0.5204998778130465, -0.8427007929497149, 0.9999779095030014]);
  });
  it('gather picks rows or columns, wrapping negative indices', () => {
    const d = { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] };
    expect(run('gather', [d, { shape: [2], data: [2, -3] }], { axis: 0 })).toEqual({ shape: [2, 2], data: [5, 6, 1, 2] });
    expect(run('gather', [d, { shape: [], data: [-1] }], { axis: 1 })).toEqual({ shape: [3], data: [2, 4, 6] });
    expect(run('gather', [d, { shape: [1, 2], data: [0, 0] }], { axis: -1 })).toEqual({ shape: [3, 1, 2], data: [1, 1, 3, 3, 5, 5] });
    expect(() => run('gather', [d, { shape: [1], data: [3] }])).toThrow('gather index 3 is out of range [-3, 3)');
    expect(infer('gather', [['f32', [3, 2]], ['f32', [1]]])).toBe('gather indices must be i32, got f32');
    expect(infer('gather', [['f32', ['V', 8]], ['i32', ['T']]], { axis: 0 })).toEqual([{ dtype: 'f32', shape: ['T', 8] }]);
  });
  it('squeeze, unsqueeze, flatten and identity relabel the shape', () => {
    expect(infer('squeeze', [['f32', [1, 3, 1]]])).toEqual([{ dtype: 'f32', shape: [3] }]);
    expect(infer('squeeze', [['f32', [1, 3, 1]]], { axes: [-1] })).toEqual([{ dtype: 'f32', shape: [1, 3] }]);
    expect(infer('squeeze', [['f32', [1, 3]]], { axes: [1] })).toBe('squeeze axis 1 has size 3, not 1');
    expect(infer('unsqueeze', [['f32', [3]]], { axes: [0, -1] })).toEqual([{ dtype: 'f32', shape: [1, 3, 1] }]);
    expect(infer('flatten', [['f32', [2, 3, 4]]], { axis: 2 })).toEqual([{ dtype: 'f32', shape: [6, 4] }]);
    expect(infer('flatten', [['f32', [2, 3, 4]]], { axis: 0 })).toEqual([{ dtype: 'f32', shape: [1, 24] }]);
    expect(infer('flatten', [['f32', ['N', 3, 4]]], {})).toEqual([{ dtype: 'f32', shape: ['N', 12] }]);
    expect(infer('flatten', [['f32', ['N', 'M', 4]]], { axis: 2 })).toBe('flatten of [N,M,4] multiplies symbolic dims; bind them first');
    expect(infer('identity', [['f16', [2]]])).toEqual([{ dtype: 'f16', shape: [2] }]);
    expect(run('unsqueeze', [{ shape: [2], data: [7, 8] }], { axes: [1] })).toEqual({ shape: [2, 1], data: [7, 8] });
  });
  it('cast truncates toward zero for integers and maps nonzero to true', () => {
    expect(run('cast', [{ shape: [3], data: [1.7, -1.7, 0] }], { to: 'i32' }).data).toEqual([1, -1, 0]);
    expect(run('cast', [{ shape: [3], data: [1.7, -0.5, 0] }], { to: 'bool' }).data).toEqual([1, 1, 0]);
    expect(run('cast', [{ shape: [1], data: [0.1] }], { to: 'f16' }).data).toEqual([0.0999755859375]);
    expect(infer('cast', [['f32', [2]]], { to: 'i32' })).toEqual([{ dtype: 'i32', shape: [2] }]);
    expect(infer('cast', [['f32', [2]]], { to: 'f64' })).toBe("cast to 'f64' is not supported (use one of f32, f16, i32, u32, bool)");
  });
});

describe('lowering limits are user errors', () => {
  const lowerError = (g: ReturnType<GraphBuilder['build']>): unknown => {
    try {
      lowerGraph(g);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  it('too many constant gather indices to bake, and views lower to aliases', () => {
    const b = new GraphBuilder('big');
    const ids = b.initializer('ids', tensor('i32', [20000], new Int32Array(20000)));
    b.output(b.op('gather', [b.input('x', 'f32', [3, 2]), ids], {}, { name: 'emb' }));
    const e = lowerError(b.build());
    expect((e as Error).message).toBe("node 'emb' (gather): 20000 constant indices exceed the 16384 a kernel can bake in");
    expect(exitCodeFor(e)).toBe(EXIT.userError);
    const v = new GraphBuilder('views');
    const f = v.op('flatten', [v.op('unsqueeze', [v.op('squeeze', [v.input('x', 'f32', [1, 3, 1])], {})], { axes: [0] })], {});
    v.output(v.op('identity', [v.op('cast', [f], { to: 'f32' })]));
    const low = lowerGraph(v.build());
    expect(low.kernels).toEqual([]);
    expect([...low.aliases.values()].every((a) => a === 'x')).toBe(true);
  });
});
