// Packed-bit accessors for quantized weights W[N, K] in the layouts of src/quant/format.ts, for
// any width 1–8: random access to code (n, k), whole-word unpacking for widths dividing 32,
// literal-shift codes of a 32-code dense chunk (straddling widths), code i of a chunk's plane words.
// They read the `words` binding (array<u32>); the matmul-nbits binding names live here too.

import type { MatmulNBitsProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from './expr.ts';
import { u32Lit, type HelperSink } from './shader.ts';

export interface PackedWeight {
  readonly N: number;
  readonly K: number;
  readonly bits: number;
  readonly group: number;
  readonly layout: 'dense' | 'planes';
}

/** Codes per chunk: 32 codes are one word per plane, or exactly `bits` dense words, whatever the width. */
export const CHUNK = 32;

export const packedGroups = (w: PackedWeight): number => Math.ceil(w.K / w.group);
export const rowWords = (w: PackedWeight): number => (w.layout === 'dense' ? Math.ceil((w.K * w.bits) / 32) : Math.ceil(w.K / 32));
const mask = (bits: number): string => u32Lit(2 ** bits - 1);

/** Why a weight-only (f32 A) GEMM template cannot serve `p`, or undefined (its tiling aside). */
export function weightOnlyGemmProblem(p: MatmulNBitsProblem): string | undefined {
  if (p.actBits) return 'quantized activations are served by the WxAy templates';
  if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
  if (p.M * p.N > 0xffffffff || p.M * p.K > 0xffffffff) return 'operands overflow u32 indexing';
  return packedProblem(p) ?? epilogueProblem(p.epilogue);
}

/** Statements storing `v` at out[m, n] with the bias and epilogue of a weight-only GEMM. */
export function storeNBits(h: HelperSink, p: MatmulNBitsProblem, m: string, n: string, v: string): string {
  return [
    `let r = ${v}${p.bias ? ` + bias[${n}]` : ''};`,
    `out[${m} * ${u32Lit(p.N)} + ${n}] = ${applyEpilogue(p.epilogue, 'r', h)};`,
  ].join('\n');
}

/** Why this width/layout cannot be addressed, or undefined. */
export function packedProblem(w: PackedWeight): string | undefined {
  if (!Number.isInteger(w.bits) || w.bits < 1 || w.bits > 8) return `packed weights need 1..8 bits, got ${w.bits}`;
  if (!Number.isInteger(w.group) || w.group < 1) return `group must be a positive integer, got ${w.group}`;
  const words = w.layout === 'dense' ? w.N * rowWords(w) : w.bits * w.N * rowWords(w);
  if (words > 0xffffffff) return `${words} packed words overflow u32 indexing`;
  return undefined;
}

/** Registers `nbits_code(n, k) -> u32` (random access); returns its name. */
export function packedCodeFn(h: HelperSink, w: PackedWeight): string {
  const rw = u32Lit(rowWords(w));
  const b = w.bits;
  if (w.layout === 'dense') {
    // The second word is read only when the code straddles, so it never leaves the row.
    return h.helper('nbits_code', [
      'fn nbits_code(n: u32, k: u32) -> u32 {',
      `  let bit = k * ${u32Lit(b)};`,
      `  let wi = n * ${rw} + (bit >> 5u);`,
      '  let sh = bit & 31u;',
      '  var q = words[wi] >> sh;',
      `  if (sh + ${u32Lit(b)} > 32u) { q = q | (words[wi + 1u] << (32u - sh)); }`,
      `  return q & ${mask(b)};`,
      '}',
    ].join('\n'));
  }
  return h.helper('nbits_code', [
    'fn nbits_code(n: u32, k: u32) -> u32 {',
    `  let base = n * ${rw} + (k >> 5u);`,
    '  let sh = k & 31u;',
    '  var q = 0u;',
    `  for (var j = 0u; j < ${u32Lit(b)}; j++) { q = q | (((words[base + j * ${u32Lit(w.N * rowWords(w))}] >> sh) & 1u) << j); }`,
    '  return q;',
    '}',
  ].join('\n'));
}

/** Registers `nbits_weight(n, k) -> f32`, the dequantized weight scale * (q - zero). */
export function packedWeightFn(h: HelperSink, w: PackedWeight): string {
  const code = packedCodeFn(h, w);
  return h.helper('nbits_weight', [
    'fn nbits_weight(n: u32, k: u32) -> f32 {',
    `  let gi = n * ${u32Lit(packedGroups(w))} + k / ${u32Lit(w.group)};`,
    `  return (f32(${code}(n, k)) - zeros[gi]) * scales[gi];`,
    '}',
  ].join('\n'));
}

/** Statements loading plane word `c` (codes 32c..32c+31) of row `n`, one per bit, into `<v>0..<v>{bits-1}`. */
export function planeWordLoads(w: PackedWeight, v: string, n: string, c: string): string {
  const rw = rowWords(w);
  const lines = [`let ${v}base = ${n} * ${u32Lit(rw)} + ${c};`];
  for (let j = 0; j < w.bits; j++) lines.push(`let ${v}${j} = words[${v}base + ${u32Lit(j * w.N * rw)}];`);
  return lines.join('\n');
}

/** u32 expression: code `i` (a u32 expression in 0..31) of the plane words loaded by planeWordLoads(v). */
export function planeCode(w: PackedWeight, v: string, i: string): string {
  const terms = Array.from({ length: w.bits }, (_, j) => (j === 0 ? `((${v}0 >> ${i}) & 1u)` : `(((${v}${j} >> ${i}) & 1u) << ${u32Lit(j)})`));
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' | ')})`;
}

/** True when codes never straddle words (the width divides 32): a word holds 32 / bits whole codes. */
export const wordAligned = (bits: number): boolean => 32 % bits === 0;

/** u32 expression: code `i` (0 .. 32/bits - 1) of dense `word`, for widths dividing 32. */
export function denseWordCode(w: PackedWeight, word: string, i: string): string {
  if (!wordAligned(w.bits)) throw new Error(`denseWordCode: ${w.bits}-bit codes straddle words; use nbits_code`);
  return `((${word} >> (${i} * ${u32Lit(w.bits)})) & ${mask(w.bits)})`;
}

/** Statements loading dense words c*bits .. c*bits+bits-1 of row `n` (chunk c: codes 32c..32c+31) into `<v>0..`. */
export function denseChunkLoads(w: PackedWeight, v: string, n: string, c: string): string {
  const lines = [`let ${v}base = ${n} * ${u32Lit(rowWords(w))} + ${c} * ${u32Lit(w.bits)};`];
  for (let j = 0; j < w.bits; j++) lines.push(`let ${v}${j} = words[${v}base + ${u32Lit(j)}];`);
  return lines.join('\n');
}

/** u32 expression: code i (a constant 0..31) of a dense chunk loaded by denseChunkLoads(v); shifts are literals. */
export function denseChunkCode(w: PackedWeight, v: string, i: number): string {
  const bit = i * w.bits;
  const word = bit >> 5;
  const sh = bit & 31;
  const lo = sh === 0 ? `${v}${word}` : `(${v}${word} >> ${u32Lit(sh)})`;
  if (sh + w.bits > 32) return `((${lo} | (${v}${word + 1} << ${u32Lit(32 - sh)})) & ${mask(w.bits)})`;
  return sh + w.bits === 32 ? lo : `(${lo} & ${mask(w.bits)})`;
}

/** Binding names of a matmul-nbits problem's inputs, in the Problem's order, and their element types. */
export function nbitsInputs(p: MatmulNBitsProblem): string[] {
  return p.bias ? ['a', 'words', 'scales', 'zeros', 'bias'] : ['a', 'words', 'scales', 'zeros'];
}

export function nbitsInputTypes(p: MatmulNBitsProblem): string[] {
  return nbitsInputs(p).map((n) => (n === 'words' || (n === 'a' && p.actBits) ? 'u32' : 'f32'));
}

export function nbitsKey(p: MatmulNBitsProblem): string {
  const act = p.actBits ? `;a${p.actBits}${p.actLayout ?? 'planes'}` : '';
  return `M${p.M}N${p.N}K${p.K};b${p.bits}g${p.group};${p.layout}${act};${p.bias ? 'bias' : 'nobias'};epi:${epilogueKey(p.epilogue)}`;
}
