// What the f16 matmul kernels share: A[M, K] and B[K, N] f16 storage (B and the output as
// vec<V><f16> along N, so V must divide N), f32 accumulation, alpha from the matmul uniforms,
// output rounded once to f16. No transposes, bias or epilogue yet: valid() says so.

import type { DeviceInfo } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { matmulKey, matmulUniforms } from './matmul-io.ts';
import { u32Lit, type ShaderIo } from './shader.ts';
import { numel } from '../../src/ir/shape.ts';

/** `s` or vec<v><s>. */
export const vecOf = (v: number, s: 'f16' | 'f32'): string => (v === 1 ? s : `vec${v}<${s}>`);

export const f16Batches = (p: MatmulProblem): number => numel(p.batchShape);

/** Why an f16 kernel reading B and the output `vec` wide cannot serve `p` on `dev`, if it cannot. */
export function f16MatmulProblem(p: MatmulProblem, vec: number, dev: DeviceInfo): string | undefined {
  if (p.dtype !== 'f16') return 'serves f16 matmuls only';
  if (!dev.features.has('shader-f16')) return "device lacks 'shader-f16'";
  if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
  if (p.transA || p.transB) return 'f16 kernels read A[M, K] and B[K, N] (no transposes)';
  if (p.bias || p.epilogue.length) return 'f16 kernels have no bias or epilogue';
  if (p.N % vec !== 0) return `vec ${vec} does not divide N=${p.N}`;
  if (f16Batches(p) * p.M * p.N > 0xffffffff) return 'outputs overflow u32 indexing';
  return undefined;
}

export function f16MatmulIo(p: MatmulProblem, vec: number): ShaderIo {
  return { inputs: ['a', 'b'], inputTypes: ['f16', vecOf(vec, 'f16')], outputs: ['out'], outputTypes: [vecOf(vec, 'f16')], uniforms: matmulUniforms(p) };
}

export const f16MatmulKey = (p: MatmulProblem): string => `f16;${matmulKey(p)}`;

/** Element (m, k) of A and vector column `nv` of row `k` of B (bOff in elements, divisible by vec). */
export const loadA16 = (p: MatmulProblem, m: string, k: string): string => `a[aOff + ${m} * ${u32Lit(p.K)} + ${k}]`;
export const loadB16 = (p: MatmulProblem, vec: number, k: string, nv: string): string => `b[bOff / ${vec}u + ${k} * ${u32Lit(p.N / vec)} + ${nv}]`;

/** Stores f32 accumulator `v` (vec wide) at row m, vector column nv of the current batch. */
export function storeF16(p: MatmulProblem, vec: number, m: string, nv: string, v: string): string {
  return `out[batch * ${u32Lit((p.M * p.N) / vec)} + ${m} * ${u32Lit(p.N / vec)} + ${nv}] = ${vecOf(vec, 'f16')}(params.alpha * ${v});`;
}

/** The module with the f16 extension enabled (an enable directive must precede all declarations). */
export const enableF16 = (module: string): string => `enable f16;\n\n${module}`;
