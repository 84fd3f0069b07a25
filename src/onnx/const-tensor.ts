// Constant tensors of the ONNX front-end: initializers, Constant nodes and values folded at
// import time. Values are held as float64 with a kind (float/int/bool) so shape arithmetic on
// int64 stays exact up to 2^53; float results are rounded to f32 like ONNX Runtime would.
// Strings, complex and 4-bit types are not handled (a clear error names the tensor).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tensor, type Tensor } from '../ir/tensor.ts';
import { f16BitsToNumber } from '../ir/f16.ts';
import { DT, dataTypeName, toNum, type TensorProto } from './proto.ts';

export type ConstKind = 'float' | 'int' | 'bool';

export interface ConstTensor {
  readonly kind: ConstKind;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export class OnnxImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxImportError';
  }
}

export function constOf(kind: ConstKind, shape: readonly number[], data: ArrayLike<number>): ConstTensor {
  const d = Float64Array.from(data);
  if (kind === 'float') for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i] as number);
  return { kind, shape: [...shape], data: d };
}

export function kindOfDataType(code: number): ConstKind | undefined {
  switch (code) {
    case DT.FLOAT: case DT.FLOAT16: case DT.DOUBLE: case DT.BFLOAT16: return 'float';
    case DT.UINT8: case DT.INT8: case DT.UINT16: case DT.INT16: case DT.INT32: case DT.INT64: case DT.UINT32: case DT.UINT64: return 'int';
    case DT.BOOL: return 'bool';
    default: return undefined;
  }
}

function fromRaw(code: number, raw: Uint8Array, n: number, what: string): Float64Array {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  const size = ({ [DT.FLOAT]: 4, [DT.DOUBLE]: 8, [DT.FLOAT16]: 2, [DT.BFLOAT16]: 2, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1,
    [DT.INT16]: 2, [DT.UINT16]: 2, [DT.INT32]: 4, [DT.UINT32]: 4, [DT.INT64]: 8, [DT.UINT64]: 8 } as Record<number, number>)[code];
  if (size === undefined) throw new OnnxImportError(`tensor '${what}': data type ${dataTypeName(code)} is not supported`);
  if (raw.byteLength < n * size) throw new OnnxImportError(`tensor '${what}': raw data has ${raw.byteLength} bytes, needs ${n * size}`);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (code) {
      case DT.FLOAT: out[i] = dv.getFloat32(o, true); break;
      case DT.DOUBLE: out[i] = dv.getFloat64(o, true); break;
      case DT.FLOAT16: out[i] = f16BitsToNumber(dv.getUint16(o, true)); break;
      case DT.BFLOAT16: out[i] = new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0] as number; break;
      case DT.INT8: out[i] = dv.getInt8(o); break;
      case DT.UINT8: case DT.BOOL: out[i] = dv.getUint8(o); break;
      case DT.INT16: out[i] = dv.getInt16(o, true); break;
      case DT.UINT16: out[i] = dv.getUint16(o, true); break;
      case DT.INT32: out[i] = dv.getInt32(o, true); break;
      case DT.UINT32: out[i] = dv.getUint32(o, true); break;
      case DT.INT64: out[i] = Number(dv.getBigInt64(o, true)); break;
      case DT.UINT64: out[i] = Number(dv.getBigUint64(o, true)); break;
    }
  }
  return out;
}

/** Reads external data (location/offset/length) relative to the model file's directory. */
function externalBytes(t: TensorProto, modelFile: string | undefined): Uint8Array {
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const loc = kv.get('location');
  if (!loc) throw new OnnxImportError(`tensor '${t.name}': external data without a location`);
  if (!modelFile) throw new OnnxImportError(`tensor '${t.name}' keeps its data in '${loc}': give the model's file path to resolve it`);
  const file = path.resolve(path.dirname(modelFile), loc);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new OnnxImportError(`tensor '${t.name}': cannot read external data '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const off = Number(kv.get('offset') ?? 0);
  const len = kv.has('length') ? Number(kv.get('length')) : buf.byteLength - off;
  if (off + len > buf.byteLength) throw new OnnxImportError(`tensor '${t.name}': external data '${file}' is shorter than offset ${off} + length ${len}`);
  return new Uint8Array(buf.buffer, buf.byteOffset + off, len);
}

export function constFromProto(t: TensorProto, modelFile?: string): ConstTensor {
  const name = t.name ?? '(unnamed)';
  const code = t.dataType ?? 0;
  const kind = kindOfDataType(code);
  if (!kind) throw new OnnxImportError(`tensor '${name}': data type ${dataTypeName(code)} is not supported`);
  const shape = (t.dims ?? []).map((d) => toNum(d));
  const n = shape.reduce((a, b) => a * b, 1);
  let data: Float64Array;
  if (t.dataLocation === 1) data = fromRaw(code, externalBytes(t, modelFile), n, name);
  else if (t.rawData && t.rawData.length > 0) data = fromRaw(code, t.rawData, n, name);
  else if (code === DT.FLOAT) data = Float64Array.from(t.floatData ?? []);
  else if (code === DT.DOUBLE) data = Float64Array.from(t.doubleData ?? []);
  else if (code === DT.INT64) data = Float64Array.from((t.int64Data ?? []).map((v) => toNum(v)));
  else if (code === DT.UINT32 || code === DT.UINT64) data = Float64Array.from((t.uint64Data ?? []).map((v) => toNum(v)));
  else if (code === DT.FLOAT16) data = Float64Array.from((t.int32Data ?? []).map((v) => f16BitsToNumber(v & 0xffff)));
  else data = Float64Array.from(t.int32Data ?? []);
  if (data.length !== n) throw new OnnxImportError(`tensor '${name}': ${data.length} values for shape [${shape.join(',')}]`);
  return constOf(kind, shape, data);
}

/** The IR initializer for a constant: floats as f32, ints as i32, bools as bool (0/1). */
export function constToTensor(c: ConstTensor, name: string): Tensor {
  if (c.kind === 'float') return tensor('f32', c.shape, Float32Array.from(c.data));
  if (c.kind === 'bool') return tensor('bool', c.shape, Uint8Array.from(c.data));
  for (const v of c.data) {
    if (v > 2147483647 || v < -2147483648) throw new OnnxImportError(`constant '${name}' holds ${v}, outside the i32 range the IR stores integers in`);
  }
  return tensor('i32', c.shape, Int32Array.from(c.data));
}

export function scalarOf(c: ConstTensor): number | undefined {
  return c.data.length === 1 ? (c.data[0] as number) : undefined;
}
