// Hand-checked values for the CNN op batch's float64 references (ONNX spec examples and
// PyTorch results quoted in comments) and the infer error strings for common mistakes.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { ndarray, type NdArray, type TensorType } from '../../src/ir/tensor.ts';

function run(op: string, inputs: readonly NdArray[], attrs: Attrs): number[][] {
  const def = getOp(op);
  if (!def) throw new Error(`no op ${op}`);
  const inferred = def.infer(inputs.map((x) => ({ dtype: 'f32', shape: x.shape })), attrs);
  if (typeof inferred === 'string') throw new Error(inferred);
  const outs = def.reference(inputs, attrs);
  outs.forEach((o, i) => expect(o.shape).toEqual((inferred[i] as TensorType).shape));
  return outs.map((o) => [...o.data]);
}

const iota = (shape: number[], from = 0): NdArray => ndarray(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + from));

function inferError(op: string, shapes: number[][], attrs: Attrs): string {
  const r = getOp(op)?.infer(shapes.map((shape) => ({ dtype: 'f32', shape })), attrs);
  return typeof r === 'string' ? r : 'no error';
}

describe('pooling references', () => {
  it('max_pool2d ignores padding cells (all-negative input stays negative)', () => {
    const x = ndarray([1, 1, 3, 3], [-1, -2, -3, -4, -5, -6, -7, -8, -9]);
    expect(run('max_pool2d', [x], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] })).toEqual([[-1, -1, -2, -1, -1, -2, -4, -4, -5]]);
    expect(run('max_pool2d', [iota([1, 1, 4, 4], 1)], { kernel_shape: [2, 2], strides: [2, 2] })).toEqual([[6, 8, 14, 16]]);
  });

  it('avg_pool2d with and without count_include_pad', () => {
    const x = iota([1, 1, 3, 3], 1);
    const attrs = { kernel_shape: [2, 2], pads: [1, 1, 0, 0] };
    expect(run('avg_pool2d', [x], attrs)).toEqual([[1, 1.5, 2.5, 2.5, 3, 4, 5.5, 6, 7]]);
    expect(run('avg_pool2d', [x], { ...attrs, count_include_pad: 1 })).toEqual([[0.25, 0.75, 1.25, 1.25, 3, 4, 2.75, 6, 7]]);
  });

  it('avg_pool2d ceil_mode: the extra window divides by its cells inside the padded input (PyTorch: [1.5, 3.5, 5])', () => {
    const x = iota([1, 1, 1, 5], 1);
    expect(run('avg_pool2d', [x], { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 1, count_include_pad: 1 })).toEqual([[1.5, 3.5, 5]]);
    expect(run('avg_pool2d', [x], { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 0 })).toEqual([[1.5, 3.5]]);
  });

  it('global_avg_pool', () => {
    expect(run('global_avg_pool', [iota([1, 2, 2, 2], 1)], {})).toEqual([[2.5, 6.5]]);
  });
});

describe('resize reference', () => {
  const x = ndarray([1, 1, 2, 2], [1, 2, 3, 4]);

  it('bilinear half_pixel == PyTorch interpolate(scale 2, align_corners=False)', () => {
    expect(run('resize', [x], { mode: 'linear', coordinate_transformation_mode: 'half_pixel', sizes: [1, 1, 4, 4] })).toEqual([[
      1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4,
    ]]);
  });

  it('bilinear align_corners == PyTorch align_corners=True (2 -> 3)', () => {
    expect(run('resize', [x], { mode: 'linear', coordinate_transformation_mode: 'align_corners', sizes: [1, 1, 3, 3] })).toEqual([[1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]]);
  });

  it('nearest: ONNX resize_downsample_sizes_nearest and the tie rule', () => {
    const y = ndarray([1, 1, 2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(run('resize', [y], { mode: 'nearest', sizes: [1, 1, 1, 2] })).toEqual([[1, 3]]);
    expect(run('resize', [y], { mode: 'nearest', nearest_mode: 'round_prefer_ceil', sizes: [1, 1, 1, 2] })).toEqual([[6, 8]]);
  });

  it('nearest: ONNX resize_upsample_sizes_nearest (2x2 -> 7x8; row 3 is an exact tie -> floor)', () => {
    const row = (a: number, b: number): number[] => [a, a, a, a, b, b, b, b];
    expect(run('resize', [x], { mode: 'nearest', sizes: [1, 1, 7, 8] })).toEqual([[
      ...row(1, 2), ...row(1, 2), ...row(1, 2), ...row(1, 2), ...row(3, 4), ...row(3, 4), ...row(3, 4),
    ]]);
  });

  it('nearest asymmetric floor == PyTorch mode=nearest', () => {
    expect(run('resize', [ndarray([1, 1, 1, 3], [1, 2, 3])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor', sizes: [1, 1, 1, 7] }))
      .toEqual([[1, 1, 1, 2, 2, 3, 3]]);
  });
});

describe('layout references', () => {
  it('depth_to_space DCR and CRD (ONNX spec examples)', () => {
    const x = iota([1, 8, 2, 3]);
    expect(run('depth_to_space', [x], { blocksize: 2, mode: 'DCR' })).toEqual([[
      0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40, 29, 41,
      6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47,
    ]]);
    expect(run('depth_to_space', [x], { blocksize: 2, mode: 'CRD' })).toEqual([[
      0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23,
      24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47,
    ]]);
  });

  it('pad constant, reflect (pad = dim bounces again, as numpy), edge (ONNX spec examples) and a negative crop', () => {
    const x = ndarray([3, 2], [1.0, 1.2, 2.3, 3.4, 4.5, 5.7]);
    const pads = [0, 2, 0, 0];
    expect(run('pad', [x], { pads })).toEqual([[0, 0, 1.0, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7]]);
    expect(run('pad', [x], { pads, mode: 'reflect' })).toEqual([[1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7]]);
    expect(run('pad', [x], { pads, mode: 'edge' })).toEqual([[1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7]]);
    expect(run('pad', [x], { pads: [-1, 0, 0, 1], value: 9 })).toEqual([[2.3, 3.4, 9, 4.5, 5.7, 9]]);
  });

  it('slice with ONNX clamping, negative indices and steps', () => {
    const v = iota([10]);
    expect(run('slice', [v], { starts: [-1], ends: [-100000], steps: [-3] })).toEqual([[9, 6, 3, 0]]);
    expect(run('slice', [v], { starts: [7], ends: [2147483647] })).toEqual([[7, 8, 9]]);
    const d = ndarray([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(run('slice', [d], { starts: [1, 0], ends: [2, 3], axes: [0, 1], steps: [1, 2] })).toEqual([[5, 7]]);
    expect(run('slice', [d], { starts: [0, 1], ends: [-1, 1000] })).toEqual([[2, 3, 4]]);
    expect(run('slice', [d], { starts: [-1], ends: [0], axes: [-1], steps: [-1] })).toEqual([[4, 3, 2, 8, 7, 6]]);
  });

  it('concat and split', () => {
    const a = ndarray([2, 2], [1, 2, 3, 4]);
    const b = ndarray([2, 2], [5, 6, 7, 8]);
    expect(run('concat', [a, b], { axis: 1 })).toEqual([[1, 2, 5, 6, 3, 4, 7, 8]]);
    expect(run('concat', [a, b], { axis: -2 })).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
    expect(run('split', [iota([6], 1)], { split: [2, 4] })).toEqual([[1, 2], [3, 4, 5, 6]]);
    expect(run('split', [iota([2, 5])], { axis: -1, num_outputs: 2 })).toEqual([[0, 1, 2, 5, 6, 7], [3, 4, 8, 9]]);
  });
});

describe('batch_norm and conv_transpose2d references', () => {
  it('batch_norm per channel', () => {
    const x = ndarray([1, 2, 1, 2], [1, 2, 3, 4]);
    const [s, b, m, v] = [[1, 2], [0, 1], [1, 2], [4, 1]].map((d) => ndarray([2], d)) as [NdArray, NdArray, NdArray, NdArray];
    expect(run('batch_norm', [x, s, b, m, v], { epsilon: 0 })).toEqual([[0, 0.5, 3, 5]]);
  });

  it('conv_transpose2d: ONNX ConvTranspose example (3x3 ones kernel, two output channels)', () => {
    const want = [0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8];
    expect(run('conv_transpose2d', [iota([1, 1, 3, 3]), ndarray([1, 2, 3, 3], new Array(18).fill(1))], {})).toEqual([[...want, ...want]]);
  });

  it('conv_transpose2d: stride 2, pads crop, output_padding adds a zero edge, bias', () => {
    const x = ndarray([1, 1, 2, 2], [1, 2, 3, 4]);
    const w = ndarray([1, 1, 2, 2], [1, 1, 1, 1]);
    expect(run('conv_transpose2d', [x, w], { strides: [2, 2] })).toEqual([[1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]]);
    expect(run('conv_transpose2d', [x, w], { strides: [2, 2], pads: [1, 1, 1, 1] })).toEqual([[1, 2, 3, 4]]);
    expect(run('conv_transpose2d', [x, w, ndarray([1], [10])], { strides: [2, 2], pads: [1, 1, 0, 0], output_padding: [1, 0] }))
      .toEqual([[11, 12, 12, 13, 14, 14, 13, 14, 14, 10, 10, 10]]);
  });
});

describe('inference errors', () => {
  it('explains bad attributes and shapes in one line', () => {
    expect(inferError('max_pool2d', [[1, 1, 4, 4]], { kernel_shape: [2, 2], pads: [2, 0, 0, 0] })).toMatch(/must be smaller than the window extent 2/);
    expect(inferError('avg_pool2d', [[1, 4, 4]], { kernel_shape: [2, 2] })).toMatch(/rank-4 NCHW/);
    expect(inferError('pad', [[3, 2]], { pads: [0, -1, 0, 0], mode: 'reflect' })).toMatch(/negative pads crop only in constant mode/);
    expect(inferError('pad', [[3, 2]], { pads: [0, 1] })).toMatch(/needs 4 pads for rank 2/);
    expect(inferError('concat', [[2, 3], [3, 3]], { axis: 1 })).toMatch(/differs from input 0/);
    expect(inferError('slice', [[4]], { starts: [0], ends: [4], steps: [0] })).toMatch(/steps must not be 0/);
    expect(inferError('slice', [[4]], { starts: [3], ends: [1] })).toMatch(/empty/);
    expect(inferError('split', [[5]], { split: [2, 2] })).toMatch(/sum to 4, the axis has 5/);
    expect(inferError('resize', [[1, 2, 3, 3]], { sizes: [1, 3, 6, 6] })).toMatch(/only change the last two dims/);
    expect(inferError('resize', [[1, 2, 3, 3]], { mode: 'cubic', sizes: [1, 2, 6, 6] })).toMatch(/mode must be one of nearest\|linear/);
    expect(inferError('depth_to_space', [[1, 6, 2, 2]], { blocksize: 2 })).toMatch(/not divisible by blocksize\^2 = 4/);
    expect(inferError('batch_norm', [[1, 3, 2], [3], [3], [2], [3]], {})).toMatch(/mean must have shape \[3\]/);
    expect(inferError('conv_transpose2d', [[1, 4, 3, 3], [3, 2, 3, 3]], {})).toMatch(/X has 4 channels, W has 3/);
    expect(inferError('conv_transpose2d', [[1, 1, 3, 3], [1, 1, 3, 3]], { strides: [2, 2], output_padding: [2, 0] })).toMatch(/output_padding 2/);
  });

  it('the builder attaches the node name to the message', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'f32', [2, 3]);
    expect(() => b.op('concat', [x, b.input('y', 'f32', [2, 4, 1])], { axis: 0 }, { name: 'joiner' })).toThrow(/node 'joiner' \(concat\): concat input 1 has rank 3/);
  });
});
