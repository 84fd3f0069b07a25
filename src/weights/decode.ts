// Raw little-endian element buffers -> host tensors. Floating types (f64/f32/f16/bf16) all
// become f32 tensors (the IR's weight type); integer types become i32 and must fit in it.
// Strided views (torch tensors) are gathered into contiguous row-major order here.

import { f16BitsToNumber } from '../ir/f16.ts';
import { numel } from '../ir/shape.ts';
import { tensor, type Tensor } from '../ir/tensor.ts';
import { WeightsError } from './errors.ts';

export type ElemType = 'f64' | 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

export const ELEM_BYTES: Readonly<Record<ElemType, number>> = { f64: 8, f32: 4, f16: 2, bf16: 2, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };

function reader(t: ElemType, dv: DataView): (i: number) => number {
  switch (t) {
    case 'f64': return (i) => dv.getFloat64(i * 8, true);
    case 'f32': return (i) => dv.getFloat32(i * 4, true);
    case 'f16': return (i) => f16BitsToNumber(dv.getUint16(i * 2, true));
    case 'bf16': {
      const tmp = new DataView(new ArrayBuffer(4));
      return (i) => { tmp.setUint32(0, dv.getUint16(i * 2, true) << 16, true); return tmp.getFloat32(0, true); };
    }
    case 'i64': return (i) => Number(dv.getBigInt64(i * 8, true));
    case 'i32': return (i) => dv.getInt32(i * 4, true);
    case 'i16': return (i) => dv.getInt16(i * 2, true);
    case 'i8': return (i) => dv.getInt8(i);
    case 'u8': case 'bool': return (i) => dv.getUint8(i);
  }
}

/** Elements `offset + Σ idx·stride` of `raw` gathered into a contiguous tensor of `shape`. */
export function decodeTensor(name: string, t: ElemType, raw: Uint8Array, shape: readonly number[], offset = 0, stride?: readonly number[]): Tensor {
  const n = numel(shape);
  const elems = Math.floor(raw.byteLength / ELEM_BYTES[t]);
  const st = stride ?? contiguous(shape);
  let last = offset;
  shape.forEach((d, i) => { if (d > 0) last += (d - 1) * (st[i] as number); });
  if (n > 0 && (offset < 0 || last >= elems)) throw new WeightsError(`tensor '${name}': needs element ${last} of a storage with ${elems} (truncated file?)`);
  const get = reader(t, new DataView(raw.buffer, raw.byteOffset, raw.byteLength));
  const isFloat = t === 'f64' || t === 'f32' || t === 'f16' || t === 'bf16';
  const out = isFloat ? new Float32Array(n) : new Int32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let o = 0; o < n; o++) {
    out[o] = get(src);
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      src += st[k] as number;
      if ((idx[k] as number) < (shape[k] as number)) break;
      src -= (shape[k] as number) * (st[k] as number);
      idx[k] = 0;
    }
  }
  return tensor(isFloat ? 'f32' : 'i32', shape, out);
}

function contiguous(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { st[i] = acc; acc *= shape[i] as number; }
  return st;
}
