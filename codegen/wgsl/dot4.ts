// Byte-lane helpers for the 8-bit dot-product (dot4) kernels: dense b-bit codes (1..8, weights or
// quantize_act rows) expanded four at a time into one u32 with code t in byte t (the operand order
// of WGSL's dot4U8Packed), and the dot / byte-sum spellings with or without that builtin.
// Quads never cross a 32-code chunk (a chunk is exactly `bits` words); signed codes are not handled.

import { u32Lit, type HelperSink } from './shader.ts';

/** The WGSL language feature that provides dot4U8Packed / dot4I8Packed. */
export const DOT4_FEATURE = 'packed_4x8_integer_dot_product';

/** Codes per quad: one byte lane each. */
export const QUAD = 4;

const ones = (bits: number): number => 2 ** bits - 1;

/**
 * Registers `quad_bytes<b>(x)`: the four b-bit codes at bits 0..4b-1 of x (higher bits ignored)
 * moved to bytes 0..3. Two halving steps (pairs to 16-bit halves, then codes to bytes) cost
 * seven ops for any width, against ~13 for four separate extract-and-shift terms.
 */
export function quadBytesFn(h: HelperSink, bits: number): string {
  if (bits === 8) return h.helper('quad_bytes8', 'fn quad_bytes8(x: u32) -> u32 { return x; }');
  const pair = u32Lit(ones(2 * bits));
  const lane = u32Lit(ones(bits) * 0x10001);
  return h.helper(`quad_bytes${bits}`, [
    `fn quad_bytes${bits}(x: u32) -> u32 {`,
    `  let y = (x & ${pair}) | (((x >> ${u32Lit(2 * bits)}) & ${pair}) << 16u);`,
    `  return (y & ${lane}) | (((y >> ${u32Lit(bits)}) & ${lane}) << 8u);`,
    '}',
  ].join('\n'));
}

/**
 * u32 expression: codes 4q..4q+3 of a dense 32-code chunk as bytes, where `word(i)` (i < bits) is an
 * expression for the chunk's word i. Shifts are literals; a quad straddling two words ORs them.
 */
export function chunkQuad(h: HelperSink, bits: number, word: (i: number) => string, q: number): string {
  const bit = QUAD * q * bits;
  const wi = bit >> 5;
  const sh = bit & 31;
  let field = sh === 0 ? word(wi) : `(${word(wi)} >> ${u32Lit(sh)})`;
  if (sh + QUAD * bits > 32) field = `(${field} | (${word(wi + 1)} << ${u32Lit(32 - sh)}))`;
  return bits === 8 ? field : `${quadBytesFn(h, bits)}(${field})`;
}

/**
 * Registers `<name>(i, sh) -> u32`: the 4*bits-bit field of quad codes that starts at bit `sh` of
 * `buffer[i]` (bits above it are garbage that quad_bytes ignores). Only straddling widths read a
 * second word, and only when the quad crosses into it (`sh` is uniform across a workgroup's lanes).
 */
export function quadFieldFn(h: HelperSink, name: string, buffer: string, bits: number): string {
  if (bits === 8) return h.helper(name, `fn ${name}(i: u32, sh: u32) -> u32 { return ${buffer}[i]; }`);
  if (32 % (QUAD * bits) === 0) return h.helper(name, `fn ${name}(i: u32, sh: u32) -> u32 { return ${buffer}[i] >> sh; }`);
  return h.helper(name, [
    `fn ${name}(i: u32, sh: u32) -> u32 {`,
    `  let lo = ${buffer}[i] >> sh;`,
    `  if (sh <= ${u32Lit(32 - QUAD * bits)}) { return lo; }`,
    `  return lo | (${buffer}[i + 1u] << (32u - sh));`,
    '}',
  ].join('\n'));
}

export interface Dot4Spelling {
  /** `dot(a, b)`: sum over the four byte lanes of a_t * b_t (u32). */
  readonly dot: (a: string, b: string) => string;
  /** `sum(a)`: sum of the four byte lanes (u32). */
  readonly sum: (a: string) => string;
}

/**
 * With `native`, the packed_4x8_integer_dot_product builtins; otherwise plain integer ops on
 * unpacked lanes (what devices without the feature run).
 */
export function dot4Spelling(h: HelperSink, native: boolean): Dot4Spelling {
  if (native) {
    return { dot: (a, b) => `dot4U8Packed(${a}, ${b})`, sum: (a) => `dot4U8Packed(${a}, 0x01010101u)` };
  }
  const dot = h.helper('dot4_lanes', [
    'fn dot4_lanes(a: u32, b: u32) -> u32 {',
    '  let va = vec4<u32>(a & 0xffu, (a >> 8u) & 0xffu, (a >> 16u) & 0xffu, a >> 24u);',
    '  let vb = vec4<u32>(b & 0xffu, (b >> 8u) & 0xffu, (b >> 16u) & 0xffu, b >> 24u);',
    '  return dot(va, vb);',
    '}',
  ].join('\n'));
  // Byte pairs first: two adds of 16-bit lanes instead of four extracts.
  const sum = h.helper('sum4_lanes', [
    'fn sum4_lanes(a: u32) -> u32 {',
    '  let p = (a & 0x00ff00ffu) + ((a >> 8u) & 0x00ff00ffu);',
    '  return (p & 0xffffu) + (p >> 16u);',
    '}',
  ].join('\n'));
  return { dot: (a, b) => `${dot}(${a}, ${b})`, sum: (a) => `${sum}(${a})` };
}

/** True when `dev` advertises the dot4 language feature. */
export function hasDot4(dev: { readonly wgslFeatures?: ReadonlySet<string> }): boolean {
  return dev.wgslFeatures?.has(DOT4_FEATURE) ?? false;
}
