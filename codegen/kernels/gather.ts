// gather with constant indices: the (already wrapped) index list is baked into the WGSL as a
// module-scope constant array, so integer tensors never need a GPU buffer. One output element
// per invocation. Runtime (non-constant) indices are not handled; lowering rejects them.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { GatherProblem } from '../problems.ts';
import { ceilDiv, dispatchProblem, foldDispatch, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';

export type GatherKnobs = { readonly workgroupSize: number };

const KNOBS: KnobSpace<GatherKnobs> = { workgroupSize: [64, 128, 256] };

/** Baked lists beyond this make shader compilation slow; such gathers need an index buffer. */
export const MAX_BAKED_INDICES = 16384;

const total = (p: GatherProblem): number => p.outer * p.indices.length * p.inner;

function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export const gatherTemplate: KernelTemplate<GatherProblem, GatherKnobs> = {
  name: 'gather',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (!p.indices.length) return 'no indices';
    if (p.indices.length > MAX_BAKED_INDICES) return `${p.indices.length} indices exceed the ${MAX_BAKED_INDICES} that can be baked into a shader`;
    const bad = p.indices.find((i) => !Number.isInteger(i) || i < 0 || i >= p.axisLen);
    if (bad !== undefined) return `index ${bad} is not in [0, ${p.axisLen})`;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    if (Math.max(total(p), p.outer * p.axisLen * p.inner) > 0xffffffff - k.workgroupSize) return 'too many elements for u32 indexing';
    return dispatchProblem(ceilDiv(total(p), k.workgroupSize)) ?? true;
  },

  key(p) {
    const list = p.indices.join(',');
    // Long lists are hashed: the key names the tuning entry; the WGSL itself stays exact.
    return `[${p.outer},${p.axisLen},${p.inner}];idx${p.indices.length}=${list.length > 64 ? fnv(list) : list}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['src'], outputs: ['dst'] });
    const n = p.indices.length;
    b.decl(`const IDX = array<u32, ${n}>(${p.indices.map((i) => `${i}u`).join(', ')});`);
    const body = [
      `let i = groupIdx * ${u32Lit(k.workgroupSize)} + lidx;`,
      `if (i >= ${u32Lit(total(p))}) { return; }`,
      `let inner = i % ${u32Lit(p.inner)};`,
      `let kk = (i / ${u32Lit(p.inner)}) % ${u32Lit(n)};`,
      `let o = i / ${u32Lit(p.inner * n)};`,
      `dst[i] = src[(o * ${u32Lit(p.axisLen)} + IDX[kk]) * ${u32Lit(p.inner)} + inner];`,
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(ceilDiv(total(p), k.workgroupSize)), uniforms: [] };
  },

  defaults() {
    return { workgroupSize: 256 };
  },
};
