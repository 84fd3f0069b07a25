// Host-side f16 arrays for kernels whose storage is f16: PreparedKernel moves Float32Arrays, so
// f16 data travels as raw bits packed two per 32-bit lane (odd lengths padded with a zero half).
// Rounding is IEEE round-to-nearest-even (scalar conversions in src/ir/f16.ts); NaN payloads
// are not preserved.

import { f16BitsToNumber, numberToF16Bits } from '../ir/f16.ts';

/** f16 bits of each value (round to nearest even). */
export function toF16Bits(xs: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = numberToF16Bits(xs[i] as number);
  return out;
}

/** Each value rounded to f16 and back: what an f16 kernel actually sees. */
export function roundToF16(xs: ArrayLike<number>): Float32Array {
  return Float32Array.from(toF16Bits(xs), f16BitsToNumber);
}

/** `xs` as f16 bits, two per lane, viewed as a Float32Array for upload (bits, not values). */
export function packF16(xs: ArrayLike<number>): Float32Array {
  const bits = new Uint16Array(Math.ceil(xs.length / 2) * 2);
  bits.set(toF16Bits(xs));
  return new Float32Array(bits.buffer);
}

/** Lanes needed to hold `n` f16 values (the output length to request from the runner). */
export const f16Lanes = (n: number): number => Math.ceil(n / 2);

/** The first `n` f16 values stored in `lanes` (as read back from an f16 output buffer). */
export function unpackF16(lanes: Float32Array, n: number): Float32Array {
  const bits = new Uint16Array(lanes.buffer, lanes.byteOffset, lanes.length * 2);
  if (n > bits.length) throw new Error(`unpackF16: ${n} values requested from ${bits.length} halves`);
  return Float32Array.from(bits.subarray(0, n), f16BitsToNumber);
}
