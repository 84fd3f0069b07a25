// Per-token dynamic activation quantization (the A side of WxAy matmuls). Each row of K values
// (a token) gets its own asymmetric grid: lo = min(0, min x), hi = max(0, max x) (0 is always on
// the grid, so zero padding is exact), scale = f32((hi - lo) / (2^b - 1)) (1 when that is below the
// smallest normal f32, as for an all-zero row: GPUs flush subnormals),
// zero = clamp(roundEven(-lo / scale), 0, 2^b - 1) and code q = clamp(roundEven(x / scale) + zero,
// 0, 2^b - 1); the value is scale * (q - zero).
//
// A quantized row is u32[2 + W]: word 0 holds the f32 bits of `scale`, word 1 the integer `zero`,
// then the codes in one of the two packed layouts of format.ts, row-local:
//   dense:  W = ceil(K * b / 32): code k at bit k*b of the row's stream (8 bits: 4 codes a word,
//           the `dot4U8Packed` operand);
//   planes: W = b * ceil(K / 32): bit j of code k is bit k % 32 of word j * ceil(K / 32) + k / 32
//           (the popcount kernels' layout; plane-major within the row).
// GPU division is not correctly rounded, so a kernel's code may differ from this reference by one
// where x / scale lies within a few ulps of a rounding tie; everything after the codes is exact.

import { denseRowWords, packCodes, planeRowWords, type PackedLayout, unpackCodes } from './format.ts';

/** Smallest normal f32 (2^-126); a smaller scale is replaced by 1. */
export const MIN_NORMAL_F32 = 2 ** -126;

export const ACT_BITS: readonly number[] = [2, 3, 4, 5, 6, 7, 8];

export function checkActBits(bits: number): string | undefined {
  return Number.isInteger(bits) && bits >= 2 && bits <= 8 ? undefined : `activation bits must be 2..8, got ${bits}`;
}

/** u32 words of codes per quantized row (the header's 2 words not counted). */
export function actRowCodeWords(K: number, bits: number, layout: PackedLayout): number {
  return layout === 'dense' ? denseRowWords(K, bits) : bits * planeRowWords(K);
}

/** u32 words per quantized row, header included. */
export const actRowWords = (K: number, bits: number, layout: PackedLayout): number => 2 + actRowCodeWords(K, bits, layout);

/** Round half to even (WGSL's `round`). */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ActRowQuant {
  readonly scale: number;
  readonly zero: number;
  readonly codes: Uint8Array;
}

/** Quantizes one row (values are taken as f32). */
export function quantizeActRow(x: ArrayLike<number>, bits: number): ActRowQuant {
  const top = 2 ** bits - 1;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.fround(x[i] as number);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  let scale = Math.fround(Math.fround(hi - lo) / top);
  if (!(scale >= MIN_NORMAL_F32) || !Number.isFinite(scale)) scale = 1;
  const zero = Math.min(top, Math.max(0, roundEven(-lo / scale)));
  const codes = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) codes[i] = Math.min(top, Math.max(0, roundEven(Math.fround(x[i] as number) / scale) + zero));
  return { scale, zero, codes };
}

const f32Bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0] as number;
const bitsF32 = (w: number): number => new Float32Array(Uint32Array.of(w).buffer)[0] as number;

/** Quantizes rows x [rows * K] into rows * actRowWords words. */
export function packActRows(x: ArrayLike<number>, rows: number, K: number, bits: number, layout: PackedLayout): Uint32Array {
  const rw = actRowWords(K, bits, layout);
  const out = new Uint32Array(rows * rw);
  const row = new Float64Array(K);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) row[k] = x[r * K + k] as number;
    const q = quantizeActRow(row, bits);
    out[r * rw] = f32Bits(q.scale);
    out[r * rw + 1] = q.zero;
    out.set(packCodes(q.codes, 1, K, bits, layout), r * rw + 2);
  }
  return out;
}

/** Inverse of packActRows' packing: each row's scale, zero and codes. */
export function unpackActRows(words: ArrayLike<number>, rows: number, K: number, bits: number, layout: PackedLayout): ActRowQuant[] {
  const rw = actRowWords(K, bits, layout);
  const out: ActRowQuant[] = [];
  for (let r = 0; r < rows; r++) {
    const codeWords = Uint32Array.from({ length: rw - 2 }, (_, i) => words[r * rw + 2 + i] as number);
    out.push({ scale: bitsF32(words[r * rw] as number), zero: words[r * rw + 1] as number, codes: unpackCodes(codeWords, 1, K, bits, layout) });
  }
  return out;
}
