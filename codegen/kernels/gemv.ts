// Matrix-vector products (op(A) with at most 8 rows): bandwidth-bound, so every element of B is
// read exactly once and reads are coalesced along B's contiguous axis. When n is contiguous
// (B[k, n]) threads own columns and `split` thread rows share K; when k is contiguous (B[n, k],
// PyTorch Linear weights) all threads share K for `cols` columns. Partial sums are reduced in
// workgroup memory. Bias, alpha/beta and the epilogue are the matmul family's (matmul-io.ts).

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { batchOffsetSetup, loadA, loadB, matmulInputs, matmulKey, matmulUniforms, storeResult } from '../wgsl/matmul-io.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { numel } from '../../src/ir/shape.ts';

export interface GemvKnobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** n contiguous: thread rows sharing K (columns per workgroup = workgroupSize / split). */
  readonly split: number;
  /** k contiguous: output columns per workgroup. */
  readonly cols: number;
  /** K steps per loop iteration. */
  readonly unroll: number;
}

const KNOBS: KnobSpace<GemvKnobs> = { workgroupSize: [64, 128, 256], split: [1, 2, 4, 8, 16], cols: [1, 2, 4, 8], unroll: [1, 4] };
export const GEMV_MAX_ROWS = 8;

const batches = (p: MatmulProblem): number => numel(p.batchShape);
const colsPerGroup = (p: MatmulProblem, k: GemvKnobs): number => (p.transB ? k.cols : k.workgroupSize / k.split);
const groups = (p: MatmulProblem, k: GemvKnobs): number => batches(p) * ceilDiv(p.N, colsPerGroup(p, k));

function body(b: ShaderBuilder, p: MatmulProblem, k: GemvKnobs): string {
  const M = p.M;
  const cpg = colsPerGroup(p, k);
  const lanes = p.transB ? k.workgroupSize : k.split; // threads sharing one column's K range
  const cols = p.transB ? k.cols : 1; // columns each thread accumulates
  b.decl(`var<workgroup> partial: array<f32, ${k.workgroupSize * M * cols}>;`);
  const tiles = ceilDiv(p.N, cpg);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let batch = groupIdx / ${u32Lit(tiles)};`,
    `let n0 = (groupIdx % ${u32Lit(tiles)}) * ${u32Lit(cpg)};`,
    batchOffsetSetup(b, p),
    p.transB ? 'let lane = lidx;\nlet col = 0u;' : `let lane = lidx / ${u32Lit(cpg)};\nlet col = lidx % ${u32Lit(cpg)};`,
    // Scalars, not an array: a dynamically indexed private array lives in memory on some
    // compilers (lavapipe), which makes every FMA a load and a store.
    ...Array.from({ length: M * cols }, (_, i) => `var acc${i} = 0.0;`),
  ];
  const step = (kExpr: string): string[] => {
    const out: string[] = [];
    for (let j = 0; j < cols; j++) {
      const n = p.transB ? `(n0 + ${j}u)` : '(n0 + col)';
      out.push(`{ let bv = select(0.0, ${loadB(p, kExpr, n)}, ${n} < ${u32Lit(p.N)});`);
      for (let m = 0; m < M; m++) out.push(`  acc${m * cols + j} = fma(${loadA(p, `${m}u`, kExpr)}, bv, acc${m * cols + j});`);
      out.push('}');
    }
    return out;
  };
  const stride = lanes * k.unroll;
  lines.push(`var kk = lane;`);
  if (k.unroll > 1) {
    lines.push(`for (; kk + ${u32Lit(lanes * (k.unroll - 1))} < ${u32Lit(p.K)}; kk += ${u32Lit(stride)}) {`);
    for (let u = 0; u < k.unroll; u++) lines.push(...step(`(kk + ${u32Lit(u * lanes)})`).map((l) => `  ${l}`));
    lines.push('}');
  }
  lines.push(`for (; kk < ${u32Lit(p.K)}; kk += ${u32Lit(lanes)}) {`, ...step('kk').map((l) => `  ${l}`), '}');
  // partial[(lane * cpg' + col) * M*cols + i]: reduce over lanes with a tree when lanes > 1.
  const slot = p.transB ? `lane * ${u32Lit(M * cols)}` : `(lane * ${u32Lit(cpg)} + col) * ${u32Lit(M)}`;
  lines.push(...Array.from({ length: M * cols }, (_, i) => `partial[${slot} + ${i}u] = acc${i};`), 'workgroupBarrier();');
  const laneStride = p.transB ? M * cols : cpg * M;
  for (let half = 2 ** Math.ceil(Math.log2(lanes)) / 2; half >= 1; half /= 2) {
    lines.push(`if (lane < ${u32Lit(half)} && lane + ${u32Lit(half)} < ${u32Lit(lanes)}) {`,
      `  for (var i = 0u; i < ${M * cols}u; i++) { partial[${slot} + i] += partial[${slot} + ${u32Lit(half * laneStride)} + i]; }`,
      '}', 'workgroupBarrier();');
  }
  lines.push('if (lane == 0u) {');
  for (let j = 0; j < cols; j++) {
    const n = p.transB ? `(n0 + ${j}u)` : '(n0 + col)';
    lines.push(`  if (${n} < ${u32Lit(p.N)}) {`);
    for (let m = 0; m < M; m++) lines.push(`    { ${storeResult(b, p, `${m}u`, n, `partial[${slot} + ${m * cols + j}u]`).replace(/\n/g, ' ')} }`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n');
}

export const gemvTemplate: KernelTemplate<MatmulProblem, GemvKnobs> = {
  name: 'matmul-gemv',
  knobs: KNOBS,

  valid(p, k, dev) {
    if ((p.dtype ?? 'f32') !== 'f32') return 'f32 kernel (f16 has matmul-f16-gemv)';
    if (p.M < 1 || p.M > GEMV_MAX_ROWS) return `gemv serves 1..${GEMV_MAX_ROWS} rows, got M=${p.M}`;
    if (p.N < 1 || p.K < 1) return 'empty matmul';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup) return 'workgroup too large for the device';
    if (p.transB ? k.split !== 1 : k.cols !== 1) return 'knob unused by this layout';
    if (!p.transB && k.workgroupSize % k.split !== 0) return 'split must divide the workgroup';
    if (k.workgroupSize * p.M * (p.transB ? k.cols : 1) * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    return epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return `${matmulKey(p)};epi:${epilogueKey(p.epilogue)}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: matmulInputs(p), outputs: ['out'], uniforms: matmulUniforms(p) });
    return b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: matmulUniforms(p) };
  },

  defaults(p) {
    // Long K with few columns wants more lanes per column; wide N wants more columns.
    if (p.transB) return { workgroupSize: 256, split: 1, cols: p.N >= 1024 ? 4 : 1, unroll: 4 };
    return { workgroupSize: 256, split: p.K >= 1024 ? 4 : 1, cols: 1, unroll: p.K >= 1024 ? 4 : 1 };
  },
};
