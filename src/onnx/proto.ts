// Access to the ONNX protobuf schema (onnx-proto, a CommonJS package) from ESM, plus the
// small conversions every ONNX module needs: int64 (Long) to number, attribute lookup, data
// type names. int64 values beyond 2^53 lose precision; callers clamp them (Slice ends).

import { createRequire } from 'node:module';

type OnnxModule = typeof import('onnx-proto');
const loaded = createRequire(import.meta.url)('onnx-proto') as OnnxModule;
export const onnx: OnnxModule['onnx'] = loaded.onnx;

export type ModelProto = import('onnx-proto').onnx.IModelProto;
export type GraphProto = import('onnx-proto').onnx.IGraphProto;
export type NodeProto = import('onnx-proto').onnx.INodeProto;
export type TensorProto = import('onnx-proto').onnx.ITensorProto;
export type AttributeProto = import('onnx-proto').onnx.IAttributeProto;
export type ValueInfoProto = import('onnx-proto').onnx.IValueInfoProto;

/** ONNX TensorProto.DataType codes used here. */
export const DT = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

const DT_NAMES = new Map<number, string>(Object.entries(DT).map(([k, v]) => [v, k.toLowerCase()]));

export function dataTypeName(code: number): string {
  return DT_NAMES.get(code) ?? `type ${code}`;
}

interface LongLike { toNumber(): number }

/** int64 as delivered by protobufjs (number, Long or numeric string) to a JS number. */
export function toNum(v: number | LongLike | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}

export function findAttr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute?.find((a) => a.name === name);
}

export function attrInt(n: NodeProto, name: string, fallback: number): number {
  const a = findAttr(n, name);
  return a ? toNum(a.i) : fallback;
}

export function attrFloat(n: NodeProto, name: string, fallback: number): number {
  const a = findAttr(n, name);
  return a && a.f !== null && a.f !== undefined ? a.f : fallback;
}

export function attrInts(n: NodeProto, name: string): number[] | undefined {
  const a = findAttr(n, name);
  return a ? (a.ints ?? []).map((x) => toNum(x)) : undefined;
}

export function attrFloats(n: NodeProto, name: string): number[] | undefined {
  const a = findAttr(n, name);
  return a ? [...(a.floats ?? [])] : undefined;
}

export function attrString(n: NodeProto, name: string, fallback: string): string {
  const a = findAttr(n, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}
