// Small ONNX models shared by the ONNX import tests (interpreter and GPU) and the export round
// trip: each is built with onnx-proto and comes with its input shapes. Sizes are odd on
// purpose (7, 13) so no kernel tile divides them.

import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { buildModel, floatTensor, floatTensorTyped, int64Tensor } from './onnx-build.ts';

export interface OnnxCase {
  readonly name: string;
  readonly model: Uint8Array;
  readonly inputs: Record<string, { shape: number[]; data: Float32Array }>;
}

const rand = (n: number, seed: number): Float32Array => uniformF32(n, mulberry32(seed));
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const input = (shape: number[], seed: number): { shape: number[]; data: Float32Array } => ({ shape, data: rand(numel(shape), seed) });

export function onnxCases(): OnnxCase[] {
  return [
    {
      name: 'Conv+Relu (bias, stride 2, explicit pads, typed float_data weights)',
      model: buildModel({
        inputs: [{ name: 'x', shape: [1, 3, 13, 11] }], outputs: ['y'],
        inits: { w: floatTensorTyped('w', [5, 3, 3, 3], rand(135, 1)), b: floatTensor('b', [5], rand(5, 2)) },
        nodes: [
          { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { strides: [2, 2], pads: [1, 0, 1, 2], kernel_shape: [3, 3] } },
          { op: 'Relu', inputs: ['c'], outputs: ['y'] },
        ],
      }),
      inputs: { x: input([1, 3, 13, 11], 3) },
    },
    {
      name: 'Conv auto_pad SAME_UPPER, stride 2, depthwise',
      model: buildModel({
        inputs: [{ name: 'x', shape: [1, 4, 7, 8] }], outputs: ['y'],
        inits: { w: floatTensor('w', [4, 1, 3, 3], rand(36, 4)) },
        nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2], group: 4 } }],
      }),
      inputs: { x: input([1, 4, 7, 8], 5) },
    },
    {
      name: 'Gemm (transB, alpha, beta, bias)',
      model: buildModel({
        inputs: [{ name: 'a', shape: [3, 13] }], outputs: ['y'],
        inits: { w: floatTensor('w', [7, 13], rand(91, 6)), c: floatTensor('c', [7], rand(7, 7)) },
        nodes: [{ op: 'Gemm', inputs: ['a', 'w', 'c'], outputs: ['y'], attrs: { transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } } }],
      }),
      inputs: { a: input([3, 13], 8) },
    },
    {
      name: 'MatMul+Add with a symbolic batch dim bound at import',
      model: buildModel({
        inputs: [{ name: 'x', shape: ['batch', 5, 13] }], outputs: ['y'],
        inits: { w: floatTensor('w', [13, 7], rand(91, 9)), b: floatTensor('b', [7], rand(7, 10)) },
        nodes: [
          { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
          { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
        ],
      }),
      inputs: { x: input([2, 5, 13], 11) },
    },
    {
      name: 'Shape->Gather->Unsqueeze->Concat->Reshape (folded), then Transpose',
      model: buildModel({
        inputs: [{ name: 'x', shape: ['n', 6, 7] }], outputs: ['y'],
        inits: { i0: int64Tensor('i0', [], [0]), minus1: int64Tensor('minus1', [1], [-1]) },
        nodes: [
          { op: 'Shape', inputs: ['x'], outputs: ['s'] },
          { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n0'], attrs: { axis: 0 } },
          { op: 'Unsqueeze', inputs: ['n0'], outputs: ['n1'], attrs: { axes: [0] } },
          { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
          { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
          { op: 'Transpose', inputs: ['r'], outputs: ['y'], attrs: { perm: [1, 0] } },
        ],
        opset: 11,
      }),
      inputs: { x: input([3, 6, 7], 12) },
    },
    {
      name: 'Clip with constant min/max inputs (opset 13), HardSigmoid, scalar Mul',
      model: buildModel({
        inputs: [{ name: 'x', shape: [2, 13] }], outputs: ['y'],
        inits: { lo: floatTensor('lo', [], [-0.25]), hi: floatTensor('hi', [], [0.5]), k: floatTensor('k', [], [3]) },
        nodes: [
          { op: 'Mul', inputs: ['x', 'k'], outputs: ['m'] },
          { op: 'HardSigmoid', inputs: ['m'], outputs: ['h'], attrs: { alpha: { float: 0.3 } } },
          { op: 'Sub', inputs: ['h', 'hi'], outputs: ['d'] },
          { op: 'Clip', inputs: ['d', 'lo', 'hi'], outputs: ['y'] },
        ],
        opset: 13,
      }),
      inputs: { x: input([2, 13], 13) },
    },
    {
      name: 'CNN ops: Conv+BN+Relu, MaxPool, Resize, ConvTranspose, Pad(reflect), Concat, AveragePool, DepthToSpace, GAP+Flatten+Gemm',
      model: buildModel({
        inputs: [{ name: 'x', shape: [1, 4, 9, 10] }], outputs: ['y', 'logits'],
        inits: {
          w: floatTensor('w', [6, 4, 3, 3], rand(216, 20)), bn_s: floatTensor('bn_s', [6], rand(6, 21)), bn_b: floatTensor('bn_b', [6], rand(6, 22)),
          bn_m: floatTensor('bn_m', [6], rand(6, 23)), bn_v: floatTensor('bn_v', [6], Array.from(rand(6, 24), (v) => 1 + v / 2)),
          scales: floatTensor('scales', [4], [1, 1, 2, 2]), wt: floatTensor('wt', [6, 4, 2, 2], rand(96, 25)), bt: floatTensor('bt', [4], rand(4, 26)),
          pads: int64Tensor('pads', [8], [0, 0, 0, 0, 0, 0, 1, 0]), wg: floatTensor('wg', [5, 16], rand(80, 27)),
        },
        nodes: [
          { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
          { op: 'BatchNormalization', inputs: ['c', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], outputs: ['bn'], attrs: { epsilon: { float: 1e-3 } } },
          { op: 'Relu', inputs: ['bn'], outputs: ['a'] },
          { op: 'MaxPool', inputs: ['a'], outputs: ['b'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
          { op: 'Resize', inputs: ['b', '', 'scales'], outputs: ['up'], attrs: { mode: 'nearest' } },
          { op: 'ConvTranspose', inputs: ['b', 'wt', 'bt'], outputs: ['ct'], attrs: { strides: [2, 2] } },
          { op: 'Pad', inputs: ['a', 'pads'], outputs: ['pa'], attrs: { mode: 'reflect' } },
          { op: 'Concat', inputs: ['up', 'ct', 'pa'], outputs: ['cat'], attrs: { axis: 1 } },
          { op: 'AveragePool', inputs: ['cat'], outputs: ['avg'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { op: 'DepthToSpace', inputs: ['avg'], outputs: ['y'], attrs: { blocksize: 2, mode: 'CRD' } },
          { op: 'GlobalAveragePool', inputs: ['avg'], outputs: ['gap'] },
          { op: 'Flatten', inputs: ['gap'], outputs: ['flat'] },
          { op: 'Gemm', inputs: ['flat', 'wg'], outputs: ['logits'], attrs: { transB: 1 } },
        ],
        opset: 13,
      }),
      inputs: { x: input([1, 4, 9, 10], 28) },
    },
    {
      name: 'decomposed ops: PRelu, Elu, Reciprocal, InstanceNormalization, Upsample (opset 9), Softmax axis 1 (opset 9 coercion)',
      model: buildModel({
        inputs: [{ name: 'x', shape: [1, 3, 4, 5] }], outputs: ['y', 'sm'],
        inits: {
          slope: floatTensor('slope', [3, 1, 1], [0.1, -0.5, 2]), s: floatTensor('s', [3], rand(3, 40)), b: floatTensor('b', [3], rand(3, 41)),
          two: floatTensor('two', [], [2]), up: floatTensor('up', [4], [1, 1, 2, 3]),
        },
        nodes: [
          { op: 'PRelu', inputs: ['x', 'slope'], outputs: ['p'] },
          { op: 'Elu', inputs: ['p'], outputs: ['e'], attrs: { alpha: { float: 0.7 } } },
          { op: 'Add', inputs: ['e', 'two'], outputs: ['e2'] },
          { op: 'Reciprocal', inputs: ['e2'], outputs: ['r'] },
          { op: 'InstanceNormalization', inputs: ['r', 's', 'b'], outputs: ['in'], attrs: { epsilon: { float: 1e-4 } } },
          { op: 'Upsample', inputs: ['in', 'up'], outputs: ['y'], attrs: { mode: 'nearest' } },
          { op: 'Softmax', inputs: ['x'], outputs: ['sm'], attrs: { axis: 1 } },
        ],
        opset: 9,
      }),
      inputs: { x: input([1, 3, 4, 5], 42) },
    },
    {
      name: 'transformer block: LayerNorm, MatMul, Split, Reshape/Transpose heads, Softmax, Gelu (opset 20), Gather, Slice, ReduceMean',
      model: buildModel({
        inputs: [{ name: 'x', shape: [1, 5, 8] }], outputs: ['y', 'picked', 'sliced', 'mean'],
        inits: {
          g: floatTensor('g', [8], rand(8, 30)), bb: floatTensor('bb', [8], rand(8, 31)), wqkv: floatTensor('wqkv', [8, 24], rand(192, 32)),
          sp: int64Tensor('sp', [3], [8, 8, 8]), heads: int64Tensor('heads', [4], [0, 0, 2, 4]), back: int64Tensor('back', [3], [0, 0, 8]),
          scale: floatTensor('scale', [], [2]), w1: floatTensor('w1', [8, 16], rand(128, 33)), b1: floatTensor('b1', [16], rand(16, 34)),
          w2: floatTensor('w2', [16, 8], rand(128, 35)), idx: int64Tensor('idx', [2], [3, -5]),
          st: int64Tensor('st', [1], [1]), en: int64Tensor('en', [1], [4]), ax: int64Tensor('ax', [1], [1]), rax: int64Tensor('rax', [1], [-1]),
        },
        nodes: [
          { op: 'LayerNormalization', inputs: ['x', 'g', 'bb'], outputs: ['ln'], attrs: { axis: -1, epsilon: { float: 1e-5 } } },
          { op: 'MatMul', inputs: ['ln', 'wqkv'], outputs: ['qkv'] },
          { op: 'Split', inputs: ['qkv', 'sp'], outputs: ['q', 'k', 'v'], attrs: { axis: 2 } },
          { op: 'Reshape', inputs: ['q', 'heads'], outputs: ['q4'] },
          { op: 'Reshape', inputs: ['k', 'heads'], outputs: ['k4'] },
          { op: 'Reshape', inputs: ['v', 'heads'], outputs: ['v4'] },
          { op: 'Transpose', inputs: ['q4'], outputs: ['qh'], attrs: { perm: [0, 2, 1, 3] } },
          { op: 'Transpose', inputs: ['k4'], outputs: ['kt'], attrs: { perm: [0, 2, 3, 1] } },
          { op: 'Transpose', inputs: ['v4'], outputs: ['vh'], attrs: { perm: [0, 2, 1, 3] } },
          { op: 'MatMul', inputs: ['qh', 'kt'], outputs: ['s'] },
          { op: 'Div', inputs: ['s', 'scale'], outputs: ['ss'] },
          { op: 'Softmax', inputs: ['ss'], outputs: ['p'], attrs: { axis: -1 } },
          { op: 'MatMul', inputs: ['p', 'vh'], outputs: ['o'] },
          { op: 'Transpose', inputs: ['o'], outputs: ['ot'], attrs: { perm: [0, 2, 1, 3] } },
          { op: 'Reshape', inputs: ['ot', 'back'], outputs: ['o3'] },
          { op: 'Add', inputs: ['x', 'o3'], outputs: ['r'] },
          { op: 'MatMul', inputs: ['r', 'w1'], outputs: ['h'] },
          { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
          { op: 'Gelu', inputs: ['hb'], outputs: ['ge'] },
          { op: 'MatMul', inputs: ['ge', 'w2'], outputs: ['f'] },
          { op: 'Add', inputs: ['r', 'f'], outputs: ['y'] },
          { op: 'Gather', inputs: ['y', 'idx'], outputs: ['picked'], attrs: { axis: 1 } },
          { op: 'Slice', inputs: ['y', 'st', 'en', 'ax'], outputs: ['sliced'] },
          { op: 'ReduceMean', inputs: ['y', 'rax'], outputs: ['mean'], attrs: { keepdims: 0 } },
        ],
        opset: 20,
      }),
      inputs: { x: input([1, 5, 8], 36) },
    },
  ];
}
