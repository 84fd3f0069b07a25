// The K loop of the GEMV kernels whose lanes split K: lane slice `ks` (a WGSL value in
// 0..kSplit-1) walks its contiguous share [s0, s1) of `params.steps` steps, so every lane streams
// its own part of the weight; `unroll` steps per iteration, then the remainder one at a time.
// The bound is a uniform: a literal bound makes lavapipe's LLVM unroll the whole loop.

import { u32Lit } from './shader.ts';

/** Lines of the loop; `step(s)` gives the statements of step `s` (a WGSL u32 expression). */
export function kSliceLoop(kSplit: number, unroll: number, step: (s: string) => string[]): string[] {
  const indent = (ls: string[]): string[] => ls.map((l) => `  ${l}`);
  const lines = [
    `let chunk = (params.steps + ${u32Lit(kSplit - 1)}) / ${u32Lit(kSplit)};`,
    'let s0 = min(params.steps, ks * chunk);',
    'let s1 = min(params.steps, s0 + chunk);',
    'var s = s0;',
  ];
  if (unroll > 1) {
    lines.push(`for (; s + ${u32Lit(unroll - 1)} < s1; s += ${u32Lit(unroll)}) {`);
    for (let u = 0; u < unroll; u++) lines.push(...indent(step(`(s + ${u32Lit(u)})`)));
    lines.push('}');
  }
  lines.push('for (; s < s1; s++) {', ...indent(step('s')), '}');
  return lines;
}
