// Host side of examples/llama-decode.abit: per-layer K/V caches grown one token at a time,
// padded to a bucket length B so only a few bundles are compiled, and the step's inputs
// (one-hot token, rotary rows, padded caches, additive mask). Sizes default to stories260K;
// a cache never holds more than the largest bucket.

/** cos/sin of position `pos` for each (even, odd) pair, and the pair swap `rot` (as llamaInputs). */
export function rotary(pos: number, hd: number): { cos: Float32Array; sin: Float32Array; rot: Float32Array } {
  const cos = new Float32Array(hd);
  const sin = new Float32Array(hd);
  for (let i = 0; i < hd; i += 2) {
    const a = pos / 10000 ** (i / hd);
    cos[i] = cos[i + 1] = Math.cos(a);
    sin[i] = sin[i + 1] = Math.sin(a);
  }
  const rot = new Float32Array(hd * hd);
  for (let i = 0; i < hd; i += 2) { rot[(i + 1) * hd + i] = -1; rot[i * hd + i + 1] = 1; }
  return { cos, sin, rot };
}

export const KV_BUCKETS = [16, 32, 64, 128, 256, 512] as const;

export interface KvShape { readonly layers: number; readonly kvHeads: number; readonly hd: number; readonly vocab: number }
export const STORIES260K: KvShape = { layers: 5, kvHeads: 4, hd: 8, vocab: 512 };

type Inputs = Record<string, { shape: number[]; data: Float32Array }>;

export class KvCache {
  /** [layers, kvHeads, capacity, hd], the first `length` slots filled. */
  private readonly k: Float32Array;
  private readonly v: Float32Array;
  private readonly cap = KV_BUCKETS[KV_BUCKETS.length - 1] as number;
  length = 0;

  constructor(readonly dims: KvShape = STORIES260K) {
    this.k = new Float32Array(dims.layers * dims.kvHeads * this.cap * dims.hd);
    this.v = new Float32Array(this.k.length);
  }

  /** The bucket the next step runs with: room for every past slot (at least one, so B > 0). */
  bucket(): number {
    const b = KV_BUCKETS.find((x) => x >= this.length);
    if (b === undefined) throw new Error(`KvCache: ${this.length} past tokens exceed the largest bucket ${this.cap}`);
    return b;
  }

  /** Inputs of llama_decode for `token` at position `length`, caches padded to `B`. */
  inputs(token: number, B = this.bucket()): Inputs {
    const { layers, kvHeads, hd, vocab } = this.dims;
    const oneHot = new Float32Array(vocab);
    oneHot[token] = 1;
    const r = rotary(this.length, hd);
    const pad = (src: Float32Array): Float32Array => {
      const out = new Float32Array(layers * kvHeads * B * hd);
      for (let p = 0; p < layers * kvHeads; p++) out.set(src.subarray(p * this.cap * hd, (p * this.cap + this.length) * hd), p * B * hd);
      return out;
    };
    const mask = new Float32Array(B + 1);
    for (let j = this.length; j < B; j++) mask[j] = -1e9;
    return {
      token: { shape: [1, vocab], data: oneHot },
      cos: { shape: [1, 1, hd], data: r.cos },
      sin: { shape: [1, 1, hd], data: r.sin },
      rot: { shape: [hd, hd], data: r.rot },
      past_k: { shape: [layers, kvHeads, B, hd], data: pad(this.k) },
      past_v: { shape: [layers, kvHeads, B, hd], data: pad(this.v) },
      mask: { shape: [1, B + 1], data: mask },
    };
  }

  /** Appends the step's new_k / new_v ([layers, kvHeads, 1, hd]) at slot `length`. */
  append(newK: ArrayLike<number>, newV: ArrayLike<number>): void {
    const { layers, kvHeads, hd } = this.dims;
    if (this.length >= this.cap) throw new Error(`KvCache: full at ${this.cap} tokens`);
    for (let p = 0; p < layers * kvHeads; p++) {
      for (let i = 0; i < hd; i++) {
        this.k[(p * this.cap + this.length) * hd + i] = newK[p * hd + i] as number;
        this.v[(p * this.cap + this.length) * hd + i] = newV[p * hd + i] as number;
      }
    }
    this.length++;
  }
}
