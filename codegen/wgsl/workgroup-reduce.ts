// Cooperative reductions for kernels that give each row `threadsPerRow` invocations of a 1-D
// workgroup: `fn red_<op>(v, lidx) -> f32` returns the row's combined value to every thread of
// the row. Invariants: threadsPerRow is a power of two dividing workgroupSize; calls must be in
// workgroup-uniform control flow (they hold barriers); the subgroup path needs one row per group.

import type { KnobSpace, Uniform } from '../kernel.ts';
import { f32Lit, u32Lit, type ShaderBuilder } from './shader.ts';

export type ReduceCombine = 'sum' | 'max';

/** The row length as the uniform `params.len`: a literal loop bound makes lavapipe unroll the row loop
 *  and spend its LLVM time on it at the first dispatch. */
export const lenUniform = (len: number): Uniform[] => [{ name: 'len', type: 'u32', value: len }];

/** The knobs every row-reduction template shares: lanes per row, workgroup size, subgroups. */
export type RowReduceKnobs = {
  readonly threadsPerRow: number;
  readonly workgroupSize: number;
  readonly subgroups: boolean;
};

export const ROW_REDUCE_KNOBS: KnobSpace<RowReduceKnobs> = {
  threadsPerRow: [1, 4, 16, 32, 64, 128, 256],
  workgroupSize: [64, 128, 256],
  subgroups: [false, true],
};

export interface RowLayout {
  readonly threadsPerRow: number;
  readonly workgroupSize: number;
  /** Use subgroupAdd/subgroupMax, then combine one partial per subgroup (needs 'subgroups'). */
  readonly subgroups: boolean;
}

/** The combine's identity: WGSL has no infinity literal, so max starts at the f32 minimum. */
export function reduceIdentity(c: ReduceCombine): string {
  return c === 'sum' ? '0.0' : f32Lit(-Infinity);
}

export function combineExpr(c: ReduceCombine, a: string, b: string): string {
  return c === 'sum' ? `${a} + ${b}` : `max(${a}, ${b})`;
}

/** Why `l` cannot work (for templates' `valid`), or undefined. */
export function rowLayoutProblem(l: RowLayout, features: ReadonlySet<string>): string | undefined {
  const t = l.threadsPerRow;
  if (t < 1 || (t & (t - 1)) !== 0 || l.workgroupSize % t !== 0) return `threadsPerRow ${t} must be a power of two dividing workgroup ${l.workgroupSize}`;
  if (l.subgroups) {
    if (!features.has('subgroups')) return "the device lacks the 'subgroups' feature";
    if (t !== l.workgroupSize) return 'the subgroup path reduces one row per workgroup (threadsPerRow = workgroupSize)';
  }
  return undefined;
}

/** Module prefix a shader using `l` needs (the `enable` must precede every declaration). */
export function reducePrelude(l: RowLayout): string {
  return l.subgroups ? 'enable subgroups;\n\n' : '';
}

/** Registers `red_<combine>` (and its scratch memory) on `b`; returns the function name. */
export function workgroupReduceFn(b: ShaderBuilder, c: ReduceCombine, l: RowLayout): string {
  const name = `red_${c}`;
  const T = l.threadsPerRow;
  const WG = l.workgroupSize;
  if (T === 1) return b.helper(name, `fn ${name}(v: f32, lidx: u32) -> f32 {\n  return v;\n}`);
  b.helper('red_buf', `var<workgroup> red_buf: array<f32, ${WG}>;`);
  if (!l.subgroups) {
    // Tree over each row's segment of red_buf; the trailing barrier frees red_buf for the next call.
    return b.helper(name, [
      `fn ${name}(v: f32, lidx: u32) -> f32 {`,
      '  red_buf[lidx] = v;',
      '  workgroupBarrier();',
      `  let t = lidx % ${T}u;`,
      `  for (var s = ${T / 2}u; s > 0u; s = s >> 1u) {`,
      `    if (t < s) { red_buf[lidx] = ${combineExpr(c, 'red_buf[lidx]', 'red_buf[lidx + s]')}; }`,
      '    workgroupBarrier();',
      '  }',
      '  let r = red_buf[lidx - t];',
      '  workgroupBarrier();',
      '  return r;',
      '}',
    ].join('\n'));
  }
  // Subgroup ids are not guaranteed contiguous in lidx, so each subgroup claims a slot with an
  // atomic counter. The constant-bound read loop keeps control flow uniform for the barriers.
  b.helper('red_n', 'var<workgroup> red_n: atomic<u32>;');
  const sg = c === 'sum' ? 'subgroupAdd' : 'subgroupMax';
  return b.helper(name, [
    `fn ${name}(v: f32, lidx: u32) -> f32 {`,
    `  let part = ${sg}(v);`,
    '  if (subgroupElect()) { red_buf[atomicAdd(&red_n, 1u)] = part; }',
    '  workgroupBarrier();',
    '  let n = atomicLoad(&red_n);',
    `  var acc = ${reduceIdentity(c)};`,
    `  for (var i = 0u; i < ${WG}u; i++) {`,
    `    if (i < n) { acc = ${combineExpr(c, 'acc', 'red_buf[i]')}; }`,
    '  }',
    '  workgroupBarrier();',
    '  if (lidx == 0u) { atomicStore(&red_n, 0u); }',
    '  workgroupBarrier();',
    '  return acc;',
    '}',
  ].join('\n'));
}

/** Row and lane bookkeeping shared by row kernels: `t`, `row`, `live` (row < rows). */
export function rowPrologue(l: RowLayout, rows: number): string {
  const rpg = l.workgroupSize / l.threadsPerRow;
  return [
    `let t = lidx % ${l.threadsPerRow}u;`,
    `let row = groupIdx * ${rpg}u + lidx / ${l.threadsPerRow}u;`,
    `let live = row < ${u32Lit(rows)};`,
  ].join('\n');
}

/** Workgroups needed for `rows` rows. */
export function rowGroups(l: RowLayout, rows: number): number {
  return Math.ceil(rows / (l.workgroupSize / l.threadsPerRow));
}

/**
 * A default layout: enough threads per row to cover `len` without idling most of them. 64
 * threads per long row rather than 256: on lavapipe 64x4096 softmax ran 2.2 ms vs 8.8 ms, and
 * 64 invocations per row still give 64+ elements each on a GPU. Subgroups only when tuned.
 */
export function defaultRowLayout(len: number): RowLayout {
  const threadsPerRow = len >= 256 ? 64 : len >= 32 ? 16 : 1;
  return { threadsPerRow, workgroupSize: 64, subgroups: false };
}
