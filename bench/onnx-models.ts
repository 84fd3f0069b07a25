// ONNX models for the peers, built with onnx-proto: the same computation our side runs, with
// the same weights, so onnxruntime-node's providers can be timed on identical work.

import { onnx, type ModelProto, type ValueInfoProto } from '../src/onnx/proto.ts';

function valueInfo(name: string, shape: readonly number[], elemType: number = onnx.TensorProto.DataType.FLOAT): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } };
}

/** Y[M, N] = X[M, K] · W[K, N] with W an initializer. */
export function matmulModel(M: number, K: number, N: number, w: Float32Array): Uint8Array {
  const model: ModelProto = {
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'anybit-bench',
    graph: {
      name: 'matmul', node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'], name: 'mm' }],
      initializer: [{ name: 'w', dims: [K, N], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) }],
      input: [valueInfo('x', [M, K])], output: [valueInfo('y', [M, N])],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** The same with float16 X, W (given as f16 bits) and Y. */
export function matmulModelF16(M: number, K: number, N: number, wBits: Uint16Array): Uint8Array {
  const F16 = onnx.TensorProto.DataType.FLOAT16;
  const model: ModelProto = {
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'anybit-bench',
    graph: {
      name: 'matmul_f16', node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'], name: 'mm' }],
      initializer: [{ name: 'w', dims: [K, N], dataType: F16, rawData: new Uint8Array(wBits.buffer, wBits.byteOffset, wBits.byteLength) }],
      input: [valueInfo('x', [M, K], F16)], output: [valueInfo('y', [M, N], F16)],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
