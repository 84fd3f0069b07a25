// Centred (signed) codes of a dense 32-code chunk: q - 2^(b-1) as an i32, for any width 1–8,
// with every shift a literal. XOR-ing bit b-1 of each code turns two's-complement sign
// extraction (shift left, arithmetic shift right) into q - 2^(b-1), so no mask, no subtract.
// Blocks of 1, 2 or 4 chunks load as `bits` u32/vec2/vec4 words (a block is exactly that many).
// Dense layout only (src/quant/format.ts); planes and random access live in packed.ts.

import { u32Lit } from './shader.ts';

/** The offset the signed codes are centred on: code value = signed + CODE_CENTRE(bits). */
export const codeCentre = (bits: number): number => 2 ** (bits - 1);

/** Per-word XOR masks of a 32-code chunk (b words; the pattern repeats every chunk): bit (i*b + b-1) of each code i. */
export function signFlipMasks(bits: number): number[] {
  const masks = new Array<number>(bits).fill(0);
  for (let i = 0; i < 32; i++) {
    const bit = i * bits + bits - 1;
    masks[bit >> 5] = ((masks[bit >> 5] as number) | (1 << (bit & 31))) >>> 0;
  }
  return masks;
}

/** Statements loading the `bits` sign-flipped words of a chunk (`words[base + t]`) into `<v>0..`. */
export function signedWordLoads(bits: number, v: string, base: string): string[] {
  return signFlipMasks(bits).map((m, t) => `let ${v}${t} = words[${base}${t ? ` + ${u32Lit(t)}` : ''}] ^ ${u32Lit(m)};`);
}

/** WGSL element type of the words binding when read in blocks of `chunks` chunks. */
export const blockWordType = (chunks: number): string => (chunks === 1 ? 'u32' : `vec${chunks}<u32>`);

/**
 * Statements loading the `bits` sign-flipped vector words of a block of `chunks` chunks (element
 * `words[base + t]`, base in vector units) into `<v>0..`; `word(w)` names u32 word w of the block.
 */
export function signedBlockLoads(bits: number, chunks: number, v: string, base: string): { loads: string[]; word: (w: number) => string } {
  const masks = signFlipMasks(bits);
  if (chunks === 1) return { loads: signedWordLoads(bits, v, base), word: (w) => `${v}${w}` };
  const loads = Array.from({ length: bits }, (_, t) => {
    // The mask pattern repeats every chunk (one chunk is exactly `bits` words).
    const m = Array.from({ length: chunks }, (_, c) => u32Lit(masks[(t * chunks + c) % bits] as number)).join(', ');
    return `let ${v}${t} = words[${base}${t ? ` + ${u32Lit(t)}` : ''}] ^ vec${chunks}<u32>(${m});`;
  });
  return { loads, word: (w) => `${v}${Math.floor(w / chunks)}.${'xyzw'[w % chunks]}` };
}

/** i32 expression: q - 2^(b-1) of code `i` (0..31) of a chunk whose word w is `word(w)`; shifts are literals. */
export function signedCode(bits: number, word: (w: number) => string, i: number): string {
  const bit = i * bits;
  const w = bit >> 5;
  const sh = bit & 31;
  const top = u32Lit(32 - bits);
  if (sh + bits > 32) {
    // Straddles: gather the code's low bits at the top of one word, then sign-extend down.
    const u = `((${word(w)} >> ${u32Lit(sh)}) | (${word(w + 1)} << ${u32Lit(32 - sh)}))`;
    return `(bitcast<i32>(${u} << ${top}) >> ${top})`;
  }
  const left = 32 - sh - bits;
  const raised = left === 0 ? word(w) : `(${word(w)} << ${u32Lit(left)})`;
  return `(bitcast<i32>(${raised}) >> ${top})`;
}
