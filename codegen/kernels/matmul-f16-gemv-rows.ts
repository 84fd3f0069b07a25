// f16 matrix-vector products (at most 8 rows of A) over weights stored B[n, k] (transB, K % 4 == 0):
// each lane owns whole output columns and streams them as vec4<f16> along K, A read as vec4<f16>
// too; f32 accumulation, output rounded once to f16. The layout the f32 GEMV prefers for the same
// reason (contiguous per-lane streams; see gemv-vec4.ts). kSplit > 1 splits K across lanes and
// reduces in workgroup memory. No bias or epilogue (as the other f16 kernels).

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { matmulUniforms } from '../wgsl/matmul-io.ts';
import { enableF16, f16Batches, f16MatmulKey } from '../wgsl/matmul-f16-io.ts';
import { kSliceLoop } from '../wgsl/k-slices.ts';
import { gemvKSplit } from './gemv-vec4.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface F16GemvRowsKnobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** Lanes sharing one column's K range. */
  readonly kSplit: number;
  /** vec4 steps per loop iteration. */
  readonly unroll: number;
}

const KNOBS: KnobSpace<F16GemvRowsKnobs> = { workgroupSize: [32, 64, 128, 256], kSplit: [1, 2, 4, 8], unroll: [1, 2, 4] };
export const F16_GEMV_ROWS_MAX_ROWS = 8;

const colsPerGroup = (k: F16GemvRowsKnobs): number => k.workgroupSize / k.kSplit;
const tiles = (p: MatmulProblem, k: F16GemvRowsKnobs): number => ceilDiv(p.N, colsPerGroup(k));
const groups = (p: MatmulProblem, k: F16GemvRowsKnobs): number => f16Batches(p) * tiles(p, k);

function uniforms(p: MatmulProblem): Uniform[] {
  return [...matmulUniforms(p), { name: 'steps', type: 'u32', value: p.K / 4 }];
}

function body(p: MatmulProblem, k: F16GemvRowsKnobs, b: ShaderBuilder): string {
  const { M, N, K } = p;
  const K4 = K / 4;
  const lanes = colsPerGroup(k);
  const rows = Array.from({ length: M }, (_, m) => m);
  const step = (s: string): string[] => ['{',
    `  let bv = vec4<f32>(b[bBase + ${s}]);`,
    ...rows.map((m) => `  acc${m} = fma(vec4<f32>(a[${u32Lit(m * K4)} + ${s}]), bv, acc${m});`), '}'];
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let batch = groupIdx / ${u32Lit(tiles(p, k))};`,
    `let lane = lidx % ${u32Lit(lanes)};`,
    `let ks = lidx / ${u32Lit(lanes)};`,
    `let n = (groupIdx % ${u32Lit(tiles(p, k))}) * ${u32Lit(lanes)} + lane;`,
    // Columns past N read column 0 and are never stored: no branch in the loop.
    `let bBase = select(0u, n, n < ${u32Lit(N)}) * ${u32Lit(K4)};`,
    ...rows.map((m) => `var acc${m} = vec4<f32>(0.0);`),
  ];
  lines.push(...kSliceLoop(k.kSplit, k.unroll, step));
  if (k.kSplit > 1) {
    b.decl(`var<workgroup> partial: array<vec4<f32>, ${k.workgroupSize * M}>;`);
    lines.push(...rows.map((m) => `partial[lidx * ${u32Lit(M)} + ${m}u] = acc${m};`), 'workgroupBarrier();', 'if (ks != 0u) { return; }',
      `for (var i = 1u; i < ${u32Lit(k.kSplit)}; i++) {`,
      ...rows.map((m) => `  acc${m} += partial[(lidx + i * ${u32Lit(lanes)}) * ${u32Lit(M)} + ${m}u];`), '}');
  }
  lines.push(`if (n < ${u32Lit(N)}) {`,
    ...rows.map((m) => `  out[batch * ${u32Lit(M * N)} + ${u32Lit(m * N)} + n] = f16(params.alpha * dot(acc${m}, vec4<f32>(1.0)));`), '}');
  return lines.join('\n');
}

export const matmulF16GemvRowsTemplate: KernelTemplate<MatmulProblem, F16GemvRowsKnobs> = {
  name: 'matmul-f16-gemv-rows',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.dtype !== 'f16') return 'serves f16 matmuls only';
    if (!dev.features.has('shader-f16')) return "device lacks 'shader-f16'";
    if (!p.transB || p.transA) return 'serves A[M, K] x B[n, k] (transB) only';
    if (p.M < 1 || p.M > F16_GEMV_ROWS_MAX_ROWS) return `f16 gemv serves 1..${F16_GEMV_ROWS_MAX_ROWS} rows, got M=${p.M}`;
    if (p.N < 1 || p.K < 4 || p.K % 4 !== 0) return 'needs K a positive multiple of 4';
    if (p.bias || p.epilogue.length) return 'f16 kernels have no bias or epilogue';
    if (p.batchShape.length) return 'no batch dims';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup) return 'workgroup too large for the device';
    if (k.kSplit > 1 && k.workgroupSize * p.M * 16 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key: f16MatmulKey,

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['a', 'b'], inputTypes: ['vec4<f16>', 'vec4<f16>'], outputs: ['out'], outputTypes: ['f16'], uniforms: uniforms(p) });
    return enableF16(b.build([k.workgroupSize, 1, 1], body(p, k, b)));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: uniforms(p) };
  },

  defaults(p) {
    return { workgroupSize: 64, kSplit: gemvKSplit(p.N), unroll: 1 };
  },
};
