// What every matmul-family kernel reads and writes the same way: batch offsets of A and B
// (broadcast batch dims), the alpha/beta uniforms, and the result store with bias and
// epilogue. Kernels differ only in how they compute the dot products.

import type { Uniform } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { applyEpilogue } from './expr.ts';
import { offsetFn, u32Lit, type ShaderBuilder } from './shader.ts';

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

/** Stores dot product `v` at (m, n): alpha, bias, epilogue. */
export function storeResult(b: ShaderBuilder, p: MatmulProblem, m: string, n: string, v: string): string {
  const lines = [`var r = params.alpha * ${v};`];
  if (p.bias) lines.push(`r += params.beta * c[${m} * ${u32Lit(p.bias.strideM)} + ${n} * ${u32Lit(p.bias.strideN)}];`);
  lines.push(`out[batch * ${u32Lit(p.M * p.N)} + ${m} * ${u32Lit(p.N)} + ${n}] = ${applyEpilogue(p.epilogue, 'r', b)};`);
  return lines.join('\n');
}

export function matmulKey(p: MatmulProblem): string {
  const bias = p.bias ? `bias${p.bias.strideM},${p.bias.strideN}` : 'nobias';
  return [
    `batch[${p.batchShape.join(',')}]a[${p.aBatchStrides.join(',')}]b[${p.bBatchStrides.join(',')}]`,
    `M${p.M}N${p.N}K${p.K}`, `tA${Number(p.transA)}tB${Number(p.transB)}`, bias,
  ].join(';');
}
