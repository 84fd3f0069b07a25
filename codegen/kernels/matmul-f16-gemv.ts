// f16 matrix-vector products (at most 8 rows of A): bandwidth-bound, so B[K, N] is read once as
// vec<V><f16> along its contiguous N axis; `split` thread rows share each column's K range and
// reduce partial sums in workgroup memory. Accumulates in f32 (an f16 sum over K = 4096 would
// lose ~5 bits); output rounded once to f16. No transposes, bias or epilogue (matmul-f16-io.ts).

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { batchOffsetSetup, matmulUniforms } from '../wgsl/matmul-io.ts';
import { enableF16, f16Batches, f16MatmulIo, f16MatmulKey, f16MatmulProblem, loadA16, loadB16, storeF16, vecOf } from '../wgsl/matmul-f16-io.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface MatmulF16GemvKnobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** Thread rows sharing K (vector columns per workgroup = workgroupSize / split). */
  readonly split: number;
  /** f16 lanes per load of B (and per output store). */
  readonly vec: number;
  /** K steps per loop iteration. */
  readonly unroll: number;
}

const KNOBS: KnobSpace<MatmulF16GemvKnobs> = { workgroupSize: [64, 128, 256], split: [1, 2, 4, 8, 16], vec: [1, 2, 4], unroll: [1, 4] };
export const F16_GEMV_MAX_ROWS = 8;

const colsPerGroup = (k: MatmulF16GemvKnobs): number => k.workgroupSize / k.split;
const tiles = (p: MatmulProblem, k: MatmulF16GemvKnobs): number => ceilDiv(p.N / k.vec, colsPerGroup(k));
const groups = (p: MatmulProblem, k: MatmulF16GemvKnobs): number => f16Batches(p) * tiles(p, k);

function body(b: ShaderBuilder, p: MatmulProblem, k: MatmulF16GemvKnobs): string {
  const { M } = p;
  const cpg = colsPerGroup(k);
  const NV = p.N / k.vec;
  const vf = vecOf(k.vec, 'f32');
  b.decl(`var<workgroup> partial: array<${vf}, ${k.workgroupSize * M}>;`);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let batch = groupIdx / ${u32Lit(tiles(p, k))};`,
    `let nv = (groupIdx % ${u32Lit(tiles(p, k))}) * ${u32Lit(cpg)} + lidx % ${u32Lit(cpg)};`,
    batchOffsetSetup(b, p),
    `let lane = lidx / ${u32Lit(cpg)};`,
    // Out-of-range columns read the last column (no branch in the loop) and are not stored.
    `let nvc = min(nv, ${u32Lit(NV - 1)});`,
    // Scalars, not an array: a dynamically indexed private array lives in memory on lavapipe.
    ...Array.from({ length: M }, (_, m) => `var acc${m} = ${vf}();`),
  ];
  const step = (kk: string): string[] => [
    `{ let bv = ${vf}(${loadB16(p, k.vec, kk, 'nvc')});`,
    ...Array.from({ length: M }, (_, m) => `  acc${m} = fma(${vf}(f32(${loadA16(p, `${m}u`, kk)})), bv, acc${m});`),
    '}',
  ];
  lines.push('var kk = lane;');
  if (k.unroll > 1) {
    lines.push(`for (; kk + ${u32Lit(k.split * (k.unroll - 1))} < ${u32Lit(p.K)}; kk += ${u32Lit(k.split * k.unroll)}) {`);
    for (let u = 0; u < k.unroll; u++) lines.push(...step(`(kk + ${u32Lit(u * k.split)})`).map((l) => `  ${l}`));
    lines.push('}');
  }
  lines.push(`for (; kk < ${u32Lit(p.K)}; kk += ${u32Lit(k.split)}) {`, ...step('kk').map((l) => `  ${l}`), '}');
  // partial[lidx * M + m]; lane l's slot is lidx + l * cpg, so a tree over lanes halves `split`.
  lines.push(...Array.from({ length: M }, (_, m) => `partial[lidx * ${u32Lit(M)} + ${m}u] = acc${m};`), 'workgroupBarrier();');
  for (let half = 2 ** Math.ceil(Math.log2(k.split)) / 2; half >= 1; half /= 2) {
    lines.push(`if (lane < ${u32Lit(half)} && lane + ${u32Lit(half)} < ${u32Lit(k.split)}) {`,
      `  for (var i = 0u; i < ${u32Lit(M)}; i++) { partial[lidx * ${u32Lit(M)} + i] += partial[(lidx + ${u32Lit(half * cpg)}) * ${u32Lit(M)} + i]; }`,
      '}', 'workgroupBarrier();');
  }
  lines.push(`if (lane == 0u && nv < ${u32Lit(NV)}) {`);
  for (let m = 0; m < M; m++) lines.push(`  ${storeF16(p, k.vec, `${m}u`, 'nv', `partial[lidx * ${u32Lit(M)} + ${m}u]`)}`);
  lines.push('}');
  return lines.join('\n');
}

export const matmulF16GemvTemplate: KernelTemplate<MatmulProblem, MatmulF16GemvKnobs> = {
  name: 'matmul-f16-gemv',
  knobs: KNOBS,

  valid(p, k, dev) {
    const why = f16MatmulProblem(p, k.vec, dev);
    if (why) return why;
    if (p.M > F16_GEMV_MAX_ROWS) return `f16 gemv serves 1..${F16_GEMV_MAX_ROWS} rows, got M=${p.M}`;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup) return 'workgroup too large for the device';
    if (k.workgroupSize % k.split !== 0) return 'split must divide the workgroup';
    if (k.workgroupSize * p.M * k.vec * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key: f16MatmulKey,

  source(p, k) {
    const b = new ShaderBuilder(f16MatmulIo(p, k.vec));
    return enableF16(b.build([k.workgroupSize, 1, 1], body(b, p, k)));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: matmulUniforms(p) };
  },

  defaults(p) {
    const vec = p.N % 4 === 0 ? 4 : p.N % 2 === 0 ? 2 : 1;
    // Long K with few columns wants more lanes per column; partial sums must fit 16 KiB (any
    // M <= 8 with vec 4 fits at 64 threads).
    const workgroupSize = [256, 128, 64].find((w) => w * p.M * vec * 4 <= 16384) ?? 64;
    return { workgroupSize, split: p.K >= 1024 ? 4 : 1, vec, unroll: p.K >= 1024 ? 4 : 1 };
  },
};
