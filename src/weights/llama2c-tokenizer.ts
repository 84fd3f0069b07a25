// The llama2.c tokenizer (tokenizer.bin: per entry an f32 score, an i32 length and the UTF-8
// piece) and its encoder: a dummy " " prefix, code points with byte fallback (id = byte + 3),
// then greedy best-score pair merges. Decoding and special tokens are not handled here.

import { readFileSync } from 'node:fs';

export interface Llama2cTokenizer {
  readonly ids: ReadonlyMap<string, number>;
  readonly scores: readonly number[];
  readonly words: readonly string[];
}

/** Reads a tokenizer.bin of `vocab` entries. */
export function loadLlama2cTokenizer(file: string, vocab: number): Llama2cTokenizer {
  const b = readFileSync(file);
  const words: string[] = [];
  const scores: number[] = [];
  let p = 4;
  for (let i = 0; i < vocab; i++) {
    scores.push(b.readFloatLE(p));
    const len = b.readInt32LE(p + 4);
    words.push(b.subarray(p + 8, p + 8 + len).toString('utf8'));
    p += 8 + len;
  }
  return { ids: new Map(words.map((w, i) => [w, i])), scores, words };
}

export function encodeLlama2c(text: string, tok: Llama2cTokenizer): number[] {
  const out: number[] = [tok.ids.get(' ') as number];
  for (const ch of text) {
    const id = tok.ids.get(ch);
    if (id !== undefined) out.push(id);
    else for (const byte of Buffer.from(ch, 'utf8')) out.push(byte + 3);
  }
  for (;;) {
    let best = -1e10;
    let at = -1;
    let merged = -1;
    for (let i = 0; i + 1 < out.length; i++) {
      const id = tok.ids.get((tok.words[out[i] as number] as string) + (tok.words[out[i + 1] as number] as string));
      if (id !== undefined && (tok.scores[id] as number) > best) {
        best = tok.scores[id] as number;
        at = i;
        merged = id;
      }
    }
    if (at < 0) return out;
    out.splice(at, 2, merged);
  }
}
