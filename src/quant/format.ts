// Packed weight formats for quantized matmuls (weights W[N, K]: N outputs, K inputs, quantized
// along K in groups of `group`; the last group of a row may be shorter). Codes are unsigned
// b-bit integers q in [0, 2^b - 1]; the value is scale[n, g] * (q - zero[n, g]). Symmetric
// quantization stores zero = 2^(b-1) (so q - zero is a signed code); asymmetric stores any zero.
//
// Dense layout ('dense'): each row n is a little-endian bit stream of K codes, b bits each,
// code k at bit offset k*b of the row; rows start on a u32 word boundary, so a row is
// ceil(K*b/32) words and codes may straddle two words (widths that do not divide 32 work).
// Bit-plane layout ('planes'): u32[b][N][ceil(K/32)]: bit j of code (n, k) is bit (k % 32) of
// word [j][n][k / 32] — the popcount kernels' layout.
// Scales and zero points are f32 arrays [N, ceil(K / group)].

export type PackedLayout = 'dense' | 'planes';

export interface QuantizedWeight {
  readonly N: number;
  readonly K: number;
  readonly bits: number;
  readonly group: number;
  readonly layout: PackedLayout;
  readonly words: Uint32Array;
  readonly scales: Float32Array;
  readonly zeros: Float32Array;
}

export const groupsPerRow = (K: number, group: number): number => Math.ceil(K / group);
export const denseRowWords = (K: number, bits: number): number => Math.ceil((K * bits) / 32);
export const planeRowWords = (K: number): number => Math.ceil(K / 32);

export function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new RangeError(`weights need 1..8 bits, got ${bits}`);
}

/** Packs codes[N*K] (row-major, each in [0, 2^bits)) into the given layout. */
export function packCodes(codes: ArrayLike<number>, N: number, K: number, bits: number, layout: PackedLayout): Uint32Array {
  checkBits(bits);
  if (layout === 'dense') {
    const rw = denseRowWords(K, bits);
    const out = new Uint32Array(N * rw);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const q = codes[n * K + k] as number;
        const bit = k * bits;
        const w = n * rw + (bit >>> 5);
        const sh = bit & 31;
        out[w] = ((out[w] as number) | (q << sh)) >>> 0;
        if (sh + bits > 32) out[w + 1] = ((out[w + 1] as number) | (q >>> (32 - sh))) >>> 0;
      }
    }
    return out;
  }
  const rw = planeRowWords(K);
  const out = new Uint32Array(bits * N * rw);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const q = codes[n * K + k] as number;
      for (let j = 0; j < bits; j++) {
        if ((q >>> j) & 1) {
          const w = (j * N + n) * rw + (k >>> 5);
          out[w] = ((out[w] as number) | (1 << (k & 31))) >>> 0;
        }
      }
    }
  }
  return out;
}

/** Inverse of packCodes. */
export function unpackCodes(words: Uint32Array, N: number, K: number, bits: number, layout: PackedLayout): Uint8Array {
  checkBits(bits);
  const out = new Uint8Array(N * K);
  const mask = (1 << bits) - 1;
  if (layout === 'dense') {
    const rw = denseRowWords(K, bits);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const bit = k * bits;
        const w = n * rw + (bit >>> 5);
        const sh = bit & 31;
        let q = (words[w] as number) >>> sh;
        if (sh + bits > 32) q |= (words[w + 1] as number) << (32 - sh);
        out[n * K + k] = q & mask;
      }
    }
    return out;
  }
  const rw = planeRowWords(K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let q = 0;
      for (let j = 0; j < bits; j++) q |= (((words[(j * N + n) * rw + (k >>> 5)] as number) >>> (k & 31)) & 1) << j;
      out[n * K + k] = q;
    }
  }
  return out;
}

/** Dequantized W[N, K] in float64 (the reference semantics). */
export function dequantize(w: QuantizedWeight): Float64Array {
  const codes = unpackCodes(w.words, w.N, w.K, w.bits, w.layout);
  const G = groupsPerRow(w.K, w.group);
  const out = new Float64Array(w.N * w.K);
  for (let n = 0; n < w.N; n++) {
    for (let k = 0; k < w.K; k++) {
      const g = n * G + Math.floor(k / w.group);
      out[n * w.K + k] = (w.scales[g] as number) * ((codes[n * w.K + k] as number) - (w.zeros[g] as number));
    }
  }
  return out;
}
