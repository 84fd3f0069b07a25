// Shared pieces of the bit-plane popcount WxAy kernels (activation rows of src/quant/act.ts in
// 'planes', weights in format.ts 'planes'): plane-word addressing, the walk over K words split at
// quantization-group boundaries (masked words, so groups need not be multiples of 32), and the
// per-group flush that turns exact integer sums into f32. Integer invariant: within one group run,
// D = Σ 2^(i+j) popcount(A_i & W_j), Sa = Σ qa, Sw = Σ qw and cnt fit u32, and
// Σ (qa - za)(qw - zw) = (D - za·Sw) - zw·(Sa - cnt·za) with both brackets exact i32.

import type { MatmulNBitsProblem } from '../problems.ts';
import { packedGroups, packedProblem } from './packed.ts';
import { u32Lit } from './shader.ts';

export const kWords = (p: MatmulNBitsProblem): number => Math.ceil(p.K / 32);
/** u32 words per quantized activation row: [scale bits, zero, actBits planes of kWords]. */
export const actRowStride = (p: MatmulNBitsProblem): number => 2 + (p.actBits ?? 0) * kWords(p);
const groupLen = (p: MatmulNBitsProblem): number => Math.min(p.group, p.K);
/** Groups are whole words (or one group spans K): the walk needs no segment loop. */
export const wordAlignedGroups = (p: MatmulNBitsProblem): boolean => p.group % 32 === 0 || p.group >= p.K;

/** Why a popcount kernel cannot serve `p` at all (knob-independent), or undefined. */
export function popcountProblem(p: MatmulNBitsProblem): string | undefined {
  if (!p.actBits) return 'popcount kernels need quantized activations (actBits > 0)';
  if (p.actLayout !== 'planes' || p.layout !== 'planes') return `popcount kernels need 'planes' activations and weights, got ${p.actLayout ?? 'planes'}/${p.layout}`;
  if (p.actBits < 2 || p.actBits > 8) return `activation bits must be 2..8, got ${p.actBits}`;
  if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
  // |D - za·Sw| and Sw·za are at most groupLen·(2^qa - 1)(2^bw - 1): they must stay exact in i32.
  const bound = groupLen(p) * (2 ** p.actBits - 1) * (2 ** p.bits - 1);
  if (bound >= 2 ** 31) return `group of ${groupLen(p)} at W${p.bits}A${p.actBits} overflows the i32 integer dot (${bound} >= 2^31)`;
  if (p.M * actRowStride(p) > 0xffffffff || p.M * p.N > 0xffffffff) return 'operands overflow u32 indexing';
  return packedProblem(p);
}

/** u32 expression: word c of activation plane i of row m (row index must be in range). */
export const actPlaneWord = (p: MatmulNBitsProblem, m: string, i: string, c: string): string =>
  `a[${m} * ${u32Lit(actRowStride(p))} + 2u + ${i} * ${u32Lit(kWords(p))} + ${c}]`;

/** u32 expression: word c of weight plane j of column n. */
export const weightPlaneWord = (p: MatmulNBitsProblem, n: string, j: string, c: string): string =>
  `words[(${j} * ${u32Lit(p.N)} + ${n}) * ${u32Lit(kWords(p))} + ${c}]`;

export interface GroupWalk {
  /** Statements run when the group changes (and once at the end): fold the integer sums of group `cur`. */
  readonly flush: string[];
  /** Statements processing word `c` restricted to the bits of u32 `msk`. */
  readonly word: string[];
}

/**
 * Statements for word `c` (a u32 in scope): split at group boundaries, flushing on a change of
 * group; `cur` (var u32, initially 0) holds the group being summed. Bits past K are masked off.
 */
export function walkWord(p: MatmulNBitsProblem, w: GroupWalk): string[] {
  const KW = kWords(p);
  const tail = p.K % 32;
  const ind = (ls: string[]): string[] => ls.map((l) => `  ${l}`);
  if (wordAlignedGroups(p)) {
    const g = p.group >= p.K ? '0u' : `c / ${u32Lit(p.group / 32)}`;
    const msk = tail ? `select(0xffffffffu, ${u32Lit(2 ** tail - 1)}, c == ${u32Lit(KW - 1)})` : '0xffffffffu';
    return [`let g = ${g};`, 'if (g != cur) {', ...ind(w.flush), '  cur = g;', '}', `let msk = ${msk};`, ...w.word];
  }
  // Groups not multiples of 32: each word is cut into segments of one group each.
  return [
    `let kend = min(c * 32u + 32u, ${u32Lit(p.K)});`,
    'var kk = c * 32u;',
    'loop {',
    '  if (kk >= kend) { break; }',
    `  let g = kk / ${u32Lit(p.group)};`,
    `  let gend = min((g + 1u) * ${u32Lit(p.group)}, kend);`,
    '  if (g != cur) {', ...ind(ind(w.flush)), '    cur = g;', '  }',
    '  let width = gend - kk;',
    '  let msk = select((1u << width) - 1u, 0xffffffffu, width == 32u) << (kk - c * 32u);',
    ...ind(w.word),
    '  kk = gend;',
    '}',
  ];
}

/**
 * `acc += scale_w · Σ (qa - za)(qw - zw)` of group `cur` for one (row, column) pair, from the
 * integer sums (names given); the caller resets the sums afterwards.
 */
export function flushTerm(acc: string, d: string, sa: string, sw: string, za: string, sc: string, zc: string): string {
  return `${acc} += ${sc} * (f32(bitcast<i32>(${d} - ${za} * ${sw})) - ${zc} * f32(bitcast<i32>(${sa} - cnt * ${za})));`;
}

/** Index of (column n, group cur) in scales/zeros. */
export const groupIndex = (p: MatmulNBitsProblem, n: string): string => `${n} * ${u32Lit(packedGroups(p))} + cur`;
