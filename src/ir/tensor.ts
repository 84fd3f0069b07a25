// Tensor types and host-side tensor values. Initializer data is stored in its dtype's natural
// host array (f32 -> Float32Array, f16 -> Uint16Array bits, i32, u32, bool/packed -> one
// element per entry, unpacked). Packing into GPU layouts happens in the bundle writer.

import { dtypeName, type DType } from './dtype.ts';
import { numel, shapeToString, type Shape } from './shape.ts';

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export type HostArray = Float32Array | Float64Array | Uint16Array | Int32Array | Uint32Array | Uint8Array | Int8Array;

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: HostArray;
}

export function tensorType(dtype: DType, shape: Shape): TensorType {
  return { dtype, shape };
}

export function typeToString(t: TensorType): string {
  return `${dtypeName(t.dtype)}${shapeToString(t.shape)}`;
}

export function tensor(dtype: DType, shape: readonly number[], data: HostArray): Tensor {
  if (data.length !== numel(shape)) {
    throw new RangeError(`tensor data has ${data.length} elements, shape ${shapeToString(shape)} needs ${numel(shape)}`);
  }
  return { dtype, shape, data };
}

/** Dense float64 array with a concrete shape: the interpreter's value type. */
export interface NdArray {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function ndarray(shape: readonly number[], data?: ArrayLike<number>): NdArray {
  const n = numel(shape);
  const d = new Float64Array(n);
  if (data) {
    if (data.length !== n) throw new RangeError(`ndarray: ${data.length} values for shape ${shapeToString(shape)}`);
    d.set(data);
  }
  return { shape, data: d };
}
