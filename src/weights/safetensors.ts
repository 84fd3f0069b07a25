// .safetensors: u64 little-endian header length, a JSON header {name: {dtype, shape,
// data_offsets}} (plus optional __metadata__), then the data. Offsets are checked against the
// file size so a truncated file is one clear error.

import type { Tensor } from '../ir/tensor.ts';
import { ELEM_BYTES, decodeTensor, type ElemType } from './decode.ts';
import { WeightsError } from './errors.ts';

const DTYPES: Readonly<Record<string, ElemType>> = { F64: 'f64', F32: 'f32', F16: 'f16', BF16: 'bf16', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U8: 'u8', BOOL: 'bool' };

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

export function readSafetensors(bytes: Uint8Array, file: string): Map<string, Tensor> {
  if (bytes.length < 8) throw new WeightsError(`'${file}': too short for a safetensors file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.length - 8) throw new WeightsError(`'${file}': safetensors header length ${n} exceeds the file (corrupted?)`);
  let header: Record<string, Entry>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Entry>;
  } catch (e) {
    throw new WeightsError(`'${file}': safetensors header is not valid JSON (${(e as Error).message})`);
  }
  const data = bytes.subarray(8 + n);
  const out = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = DTYPES[e.dtype];
    if (!t) throw new WeightsError(`'${file}': tensor '${name}' has unsupported dtype ${e.dtype}`);
    const [a, b] = e.data_offsets;
    if (!(a >= 0 && b >= a && b <= data.length)) throw new WeightsError(`'${file}': tensor '${name}' data [${a}, ${b}) lies outside the file (truncated?)`);
    const count = e.shape.reduce((s, d) => s * d, 1);
    if (count * ELEM_BYTES[t] !== b - a) throw new WeightsError(`'${file}': tensor '${name}' ${e.dtype}[${e.shape.join(',')}] needs ${count * ELEM_BYTES[t]} bytes, has ${b - a}`);
    out.set(name, decodeTensor(name, t, data.subarray(a, b), e.shape));
  }
  return out;
}
