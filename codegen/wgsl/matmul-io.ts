// What every matmul-family kernel reads and writes the same way: batch offsets of A and B
// (broadcast batch dims), the alpha/beta uniforms, and the result store with bias and
// epilogue. Kernels differ only in how they compute the dot products.

import type { Uniform } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { applyEpilogue, epilogueProblem } from './expr.ts';
import { f32Lit, offsetFn, u32Lit, type ShaderBuilder } from './shader.ts';

/** Why an f32 GEMM template cannot serve `p`, or undefined (its tiling aside); `batches` = numel(batchShape). */
export function f32GemmProblem(p: MatmulProblem, batches: number): string | undefined {
  if ((p.dtype ?? 'f32') !== 'f32') return 'f32 kernel (f16 has matmul-f16-gemm)';
  if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
  const n = batches * p.M * p.N;
  if (n > 0xffffffff) return `${n} outputs overflow u32 indexing`;
  return epilogueProblem(p.epilogue);
}

export function matmulUniforms(p: MatmulProblem): Uniform[] {
  return [{ name: 'alpha', type: 'f32', value: p.alpha }, { name: 'beta', type: 'f32', value: p.beta }];
}

export function matmulInputs(p: MatmulProblem): string[] {
  return p.bias ? ['a', 'b', 'c'] : ['a', 'b'];
}

/** WGSL defining `aOff` and `bOff` for the flat batch index `batch`. */
export function batchOffsetSetup(b: ShaderBuilder, p: MatmulProblem): string {
  const off = (name: string, strides: readonly number[]): string => {
    if (!p.batchShape.length || strides.every((s) => s === 0)) return '0u';
    b.helper(name, offsetFn(name, p.batchShape, strides));
    return `${name}(batch)`;
  };
  return `let aOff = ${off('aBatchOffset', p.aBatchStrides)};\nlet bOff = ${off('bBatchOffset', p.bBatchStrides)};`;
}

/** Element (m, k) of op(A) and (k, n) of op(B) for the current batch. */
export function loadA(p: MatmulProblem, m: string, k: string): string {
  return p.transA ? `a[aOff + ${k} * ${u32Lit(p.M)} + ${m}]` : `a[aOff + ${m} * ${u32Lit(p.K)} + ${k}]`;
}

export function loadB(p: MatmulProblem, k: string, n: string): string {
  return p.transB ? `b[bOff + ${n} * ${u32Lit(p.K)} + ${k}]` : `b[bOff + ${k} * ${u32Lit(p.N)} + ${n}]`;
}

/** Where a store reads alpha and beta: WGSL expressions, '' for a factor of 1 (no multiply). */
export interface Scales {
  readonly alpha: string;
  readonly beta: string;
}

export const UNIFORM_SCALES: Scales = { alpha: 'params.alpha', beta: 'params.beta' };

/** alpha and beta as literals, for kernels without a uniform buffer (their key must include them). */
export function bakedScales(p: MatmulProblem): Scales {
  return { alpha: p.alpha === 1 ? '' : f32Lit(p.alpha), beta: p.beta === 1 ? '' : f32Lit(p.beta) };
}

const scaled = (s: string, x: string): string => (s === '' ? x : `${s} * ${x}`);

/** Stores dot product `v` at (m, n): alpha, bias, epilogue. */
export function storeResult(b: ShaderBuilder, p: MatmulProblem, m: string, n: string, v: string, sc: Scales = UNIFORM_SCALES): string {
  const lines = [`var r = ${scaled(sc.alpha, v)};`];
  if (p.bias) lines.push(`r += ${scaled(sc.beta, `c[${m} * ${u32Lit(p.bias.strideM)} + ${n} * ${u32Lit(p.bias.strideN)}]`)};`);
  lines.push(`out[batch * ${u32Lit(p.M * p.N)} + ${m} * ${u32Lit(p.N)} + ${n}] = ${applyEpilogue(p.epilogue, 'r', b)};`);
  return lines.join('\n');
}

/**
 * Stores vec4 `v` at (m, n..n+3) through a vec4<f32> view of `out` (N and n multiples of 4): alpha,
 * bias, and the epilogue per component.
 */
export function storeResultVec4(b: ShaderBuilder, p: MatmulProblem, m: string, n: string, v: string, sc: Scales = UNIFORM_SCALES): string {
  const lines = [`var r = ${scaled(sc.alpha, v)};`];
  if (p.bias) {
    const bias = p.bias;
    const at = (e: number): string => `c[${m} * ${u32Lit(bias.strideM)} + (${n} + ${e}u) * ${u32Lit(bias.strideN)}]`;
    lines.push(`r += ${scaled(sc.beta, `vec4<f32>(${[0, 1, 2, 3].map(at).join(', ')})`)};`);
  }
  const val = p.epilogue.length ? `vec4<f32>(${['x', 'y', 'z', 'w'].map((c) => applyEpilogue(p.epilogue, `r.${c}`, b)).join(', ')})` : 'r';
  lines.push(`out[(batch * ${u32Lit(p.M * p.N)} + ${m} * ${u32Lit(p.N)} + ${n}) / 4u] = ${val};`);
  return lines.join('\n');
}

export function matmulKey(p: MatmulProblem): string {
  const bias = p.bias ? `bias${p.bias.strideM},${p.bias.strideN}` : 'nobias';
  return [
    `batch[${p.batchShape.join(',')}]a[${p.aBatchStrides.join(',')}]b[${p.bBatchStrides.join(',')}]`,
    `M${p.M}N${p.N}K${p.K}`, `tA${Number(p.transA)}tB${Number(p.transB)}`, bias,
  ].join(';');
}
