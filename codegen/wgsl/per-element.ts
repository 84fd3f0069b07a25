// The per-element kernel skeleton shared by elementwise-like templates: each invocation
// computes `elemsPerThread` outputs, workgroup-strided so neighbouring invocations touch
// neighbouring elements. Knobs, validity, dispatch, defaults and the loop live here once;
// a template supplies only the lines computing output element `i`.

import type { DeviceInfo, KnobSpace, Launch } from '../kernel.ts';
import { ceilDiv, dispatchProblem, foldDispatch, u32Lit } from './shader.ts';

export type PerElementKnobs = {
  readonly workgroupSize: number;
  readonly elemsPerThread: number;
};

export function perElementKnobs(maxElems = 4): KnobSpace<PerElementKnobs> {
  return { workgroupSize: [64, 128, 256], elemsPerThread: [1, 2, 4, 8].filter((e) => e <= maxElems) };
}

export function perElementGroups(total: number, k: PerElementKnobs): number {
  return ceilDiv(total, k.workgroupSize * k.elemsPerThread);
}

/** A reason when (total, knobs) cannot run; `indexLimit` is the largest index the kernel's arithmetic allows. */
export function perElementProblem(total: number, k: PerElementKnobs, dev: DeviceInfo, indexLimit = 0xffffffff): string | undefined {
  if (total > indexLimit - k.workgroupSize * k.elemsPerThread) return 'tensor too large for 32-bit indexing';
  if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
    return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
  }
  return dispatchProblem(perElementGroups(total, k));
}

/** The kernel body: `lines` run once per output index `i` (< total). */
export function perElementBody(total: number, k: PerElementKnobs, lines: readonly string[]): string {
  return [
    `let base = groupIdx * ${u32Lit(k.workgroupSize * k.elemsPerThread)} + lidx;`,
    `for (var e = 0u; e < ${u32Lit(k.elemsPerThread)}; e++) {`,
    `  let i = base + e * ${u32Lit(k.workgroupSize)};`,
    `  if (i >= ${u32Lit(total)}) { break; }`,
    ...lines.map((l) => `  ${l}`),
    '}',
  ].join('\n');
}

export function perElementLaunch(total: number, k: PerElementKnobs): Launch {
  return { dispatch: foldDispatch(perElementGroups(total, k)), uniforms: [] };
}

/** Enough workgroups to fill a GPU before amortising index math over several elements. */
export function perElementDefaults(total: number): PerElementKnobs {
  return { workgroupSize: 256, elemsPerThread: total >= 1 << 20 ? 4 : 1 };
}
