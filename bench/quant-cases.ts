// Data and float64 references for the n-bit matmul benchmark (bench/quant.ts): random packed
// weights in either layout (any bit pattern is a valid packing when K is a multiple of 32),
// per-token quantized activation rows, the sampled reference check, and the ORT MatMulNBits model.
// Does not time anything; the weights are random codes, not a trained model's.

import type { MatmulNBitsProblem } from '../codegen/problems.ts';
import { onnx, type ModelProto, type TensorProto, type ValueInfoProto } from '../src/onnx/proto.ts';
import { packActRows, unpackActRows, type ActRowQuant } from '../src/quant/act.ts';
import { denseRowWords, groupsPerRow, planeRowWords, type PackedLayout } from '../src/quant/format.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';

export interface PackedCase {
  readonly bits: number;
  readonly layout: PackedLayout;
  readonly words: Uint32Array;
  readonly scales: Float32Array;
  readonly zeros: Float32Array;
}

/** Symmetric zero points (ORT's default when zero_points is absent); 0.5 for 1-bit (codes ±0.5). */
export const symmetricZero = (bits: number): number => (bits === 1 ? 0.5 : 2 ** (bits - 1));

export function randomWeights(N: number, K: number, bits: number, group: number, layout: PackedLayout, seed: number): PackedCase {
  if (K % 32 !== 0) throw new Error(`bench weights need K % 32 == 0 (random words are then all code bits), got ${K}`);
  const rand = mulberry32(seed);
  const count = layout === 'dense' ? N * denseRowWords(K, bits) : bits * N * planeRowWords(K);
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) words[i] = Math.floor(rand() * 2 ** 32);
  const G = groupsPerRow(K, group);
  const scales = uniformF32(N * G, rand, 0.02).map((s) => 0.03 + s);
  return { bits, layout, words, scales, zeros: new Float32Array(N * G).fill(symmetricZero(bits)) };
}

/** Code (n, k) of a packed case (format.ts layouts). */
export function codeAt(w: PackedCase, N: number, K: number, n: number, k: number): number {
  if (w.layout === 'dense') {
    const rw = denseRowWords(K, w.bits);
    const bit = k * w.bits;
    const i = n * rw + (bit >>> 5);
    const sh = bit & 31;
    let q = (w.words[i] as number) >>> sh;
    if (sh + w.bits > 32) q |= (w.words[i + 1] as number) << (32 - sh);
    return q & (2 ** w.bits - 1);
  }
  const rw = planeRowWords(K);
  let q = 0;
  for (let j = 0; j < w.bits; j++) q |= (((w.words[(j * N + n) * rw + (k >>> 5)] as number) >>> (k & 31)) & 1) << j;
  return q;
}

/** Quantized activation rows: the kernel input (u32 words) and their decoded (scale, zero, codes). */
export interface ActCase { readonly words: Uint32Array; readonly rows: readonly ActRowQuant[] }

export function actRows(a: Float32Array, M: number, K: number, bits: number, layout: PackedLayout): ActCase {
  const words = packActRows(a, M, K, bits, layout);
  return { words, rows: unpackActRows(words, M, K, bits, layout) };
}

/**
 * (m, n) -> float64 output: with `act`, scale_a · Σ_g scale_w · Σ_k (qa − za)(qw − zw) (the
 * matmul_nbits reference with quantized activations); else Σ_k a · scale_w · (qw − zw).
 */
export function referenceOf(p: MatmulNBitsProblem, a: Float32Array, w: PackedCase, act: ActCase | null): (m: number, n: number) => number {
  const G = groupsPerRow(p.K, p.group);
  return (m, n) => {
    let acc = 0;
    for (let g = 0; g < G; g++) {
      const s = w.scales[n * G + g] as number;
      const z = w.zeros[n * G + g] as number;
      let d = 0;
      for (let k = g * p.group; k < Math.min(p.K, (g + 1) * p.group); k++) {
        const q = codeAt(w, p.N, p.K, n, k) - z;
        if (act) {
          const row = act.rows[m] as ActRowQuant;
          d += ((row.codes[k] as number) - row.zero) * q;
        } else {
          d += (a[m * p.K + k] as number) * q;
        }
      }
      acc += s * d;
    }
    return act ? (act.rows[m] as ActRowQuant).scale * acc : acc;
  };
}

/** Max |out − ref| over `samples` random outputs, relative to the largest |ref| among them. */
export function sampledRelError(out: Float32Array, M: number, N: number, ref: (m: number, n: number) => number, samples = 24): number {
  const rand = mulberry32(7);
  let worst = 0;
  let scale = 1e-30;
  for (let s = 0; s < samples; s++) {
    const m = Math.floor(rand() * M);
    const n = Math.floor(rand() * N);
    const r = ref(m, n);
    worst = Math.max(worst, Math.abs((out[m * N + n] as number) - r));
    scale = Math.max(scale, Math.abs(r));
  }
  return worst / scale;
}

const floatInfo = (name: string, shape: readonly number[]): ValueInfoProto => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } });

/**
 * com.microsoft MatMulNBits computing the same Y[M, N] as `w` (dense layout, zero points left to
 * ORT's default 2^(bits-1) = ours): B uint8 [N, K / block, block·bits / 8] is exactly our dense
 * rows' bytes (codes low-first), since rows are whole words and groups whole bytes.
 */
export function matmulNBitsModel(M: number, K: number, N: number, block: number, w: PackedCase): Uint8Array {
  if (w.layout !== 'dense' || K % block !== 0 || (block * w.bits) % 8 !== 0) throw new Error('MatMulNBits model needs dense rows of whole byte blocks');
  const blocks = K / block;
  const init = (name: string, dims: number[], dataType: number, bytes: Uint8Array): TensorProto => ({ name, dims, dataType, rawData: bytes });
  const model: ModelProto = {
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }], producerName: 'anybit-bench',
    graph: {
      name: 'matmul_nbits',
      node: [{
        opType: 'MatMulNBits', domain: 'com.microsoft', input: ['a', 'b', 'scales'], output: ['y'], name: 'mm',
        attribute: [['K', K], ['N', N], ['bits', w.bits], ['block_size', block]].map(([name, i]) => ({ name: name as string, type: onnx.AttributeProto.AttributeType.INT, i: i as number })),
      }],
      initializer: [
        init('b', [N, blocks, (block * w.bits) / 8], onnx.TensorProto.DataType.UINT8, new Uint8Array(w.words.buffer, w.words.byteOffset, w.words.byteLength)),
        init('scales', [N, blocks], onnx.TensorProto.DataType.FLOAT, new Uint8Array(w.scales.buffer, w.scales.byteOffset, w.scales.byteLength)),
      ],
      input: [floatInfo('a', [M, K])], output: [floatInfo('y', [M, N])],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
