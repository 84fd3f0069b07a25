// llama2.c legacy checkpoints (e.g. stories260K.bin): a header of 7 int32 (dim, hidden,
// layers, heads, kv heads, vocab (negative = separate classifier), seq_len), then float32
// tensors in a fixed order. Per-layer stacks are split and named like Meta's LLaMA
// (`layers.<i>.attention.wq.weight`); the trailing legacy RoPE tables are skipped.

import { tensor, type Tensor } from '../ir/tensor.ts';
import { WeightsError } from './errors.ts';

export interface Llama2cConfig {
  readonly dim: number; readonly hidden: number; readonly layers: number; readonly heads: number;
  readonly kvHeads: number; readonly vocab: number; readonly seqLen: number; readonly sharedClassifier: boolean;
}

export function llama2cConfig(bytes: Uint8Array, file: string): Llama2cConfig {
  if (bytes.length < 28) throw new WeightsError(`'${file}': too short for a llama2.c checkpoint`);
  const h = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 28));
  const [dim, hidden, layers, heads, kvHeads, vocab, seqLen] = [...h] as number[];
  const cfg = { dim, hidden, layers, heads, kvHeads, vocab: Math.abs(vocab as number), seqLen, sharedClassifier: (vocab as number) > 0 } as Llama2cConfig;
  if (![cfg.dim, cfg.hidden, cfg.layers, cfg.heads, cfg.kvHeads, cfg.vocab, cfg.seqLen].every((v) => Number.isInteger(v) && v > 0 && v < 1 << 20) || cfg.dim % cfg.heads !== 0) {
    throw new WeightsError(`'${file}': implausible llama2.c header [${[...h].join(', ')}] (not a llama2.c checkpoint?)`);
  }
  return cfg;
}

export function readLlama2c(bytes: Uint8Array, file: string): Map<string, Tensor> {
  const c = llama2cConfig(bytes, file);
  const kvDim = (c.dim / c.heads) * c.kvHeads;
  const floats = Math.floor((bytes.length - 28) / 4);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 28, bytes.byteOffset + 28 + floats * 4));
  const out = new Map<string, Tensor>();
  let off = 0;
  const take = (shape: number[]): Float32Array => {
    const n = shape.reduce((s, d) => s * d, 1);
    if (off + n > data.length) throw new WeightsError(`'${file}': truncated (needs more than ${data.length} floats)`);
    const v = data.slice(off, off + n);
    off += n;
    return v;
  };
  const perLayer = (name: string, shape: number[]): void => {
    for (let l = 0; l < c.layers; l++) out.set(`layers.${l}.${name}`, tensor('f32', shape, take(shape)));
  };
  out.set('tok_embeddings.weight', tensor('f32', [c.vocab, c.dim], take([c.vocab, c.dim])));
  perLayer('attention_norm.weight', [c.dim]);
  perLayer('attention.wq.weight', [c.dim, c.dim]);
  perLayer('attention.wk.weight', [kvDim, c.dim]);
  perLayer('attention.wv.weight', [kvDim, c.dim]);
  perLayer('attention.wo.weight', [c.dim, c.dim]);
  perLayer('ffn_norm.weight', [c.dim]);
  perLayer('feed_forward.w1.weight', [c.hidden, c.dim]);
  perLayer('feed_forward.w2.weight', [c.dim, c.hidden]);
  perLayer('feed_forward.w3.weight', [c.hidden, c.dim]);
  out.set('norm.weight', tensor('f32', [c.dim], take([c.dim])));
  const headSize = c.dim / c.heads;
  take([c.seqLen * headSize]); // legacy freq_cis_real + freq_cis_imag (each seqLen * headSize / 2)
  out.set('output.weight', c.sharedClassifier ? (out.get('tok_embeddings.weight') as Tensor) : tensor('f32', [c.vocab, c.dim], take([c.vocab, c.dim])));
  return out;
}
