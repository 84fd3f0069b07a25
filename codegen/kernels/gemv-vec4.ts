// f32 matrix-vector products (op(A) with at most 8 rows) over B[k, n] (n contiguous, N % 4 == 0)
// read as vec4s: each lane owns `vecs` groups of 4 neighbouring columns (strided by the lane count,
// so neighbouring lanes read neighbouring 16-byte blocks) and walks its share of K. On lavapipe every
// lane-varying load is a separate per-lane access, so one vec4 load per 4 columns is what brings the
// weight stream near the copy roofline. A is the same for every lane (a uniform address). With
// kSplit > 1 lanes also split K and partial sums are reduced in workgroup memory (for GPUs, where
// N/4 lanes alone do not fill the device). Loop bounds are uniforms: literal bounds make lavapipe's
// LLVM unroll the whole K loop.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { batchOffsetSetup, loadA, matmulInputs, matmulKey, matmulUniforms, storeResult } from '../wgsl/matmul-io.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { numel } from '../../src/ir/shape.ts';

export interface GemvVec4Knobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** vec4 column blocks per lane (4 or 8 columns). */
  readonly vecs: number;
  /** Lanes sharing one column block's K range (reduced in workgroup memory). */
  readonly kSplit: number;
  /** K steps per loop iteration. */
  readonly unroll: number;
}

const KNOBS: KnobSpace<GemvVec4Knobs> = { workgroupSize: [32, 64, 128, 256], vecs: [1, 2], kSplit: [1, 2, 4, 8], unroll: [1, 2, 4] };
export const GEMV_VEC4_MAX_ROWS = 8;

const blocksPerGroup = (k: GemvVec4Knobs): number => (k.workgroupSize / k.kSplit) * k.vecs;
const tiles = (p: MatmulProblem, k: GemvVec4Knobs): number => ceilDiv(p.N / 4, blocksPerGroup(k));
const groups = (p: MatmulProblem, k: GemvVec4Knobs): number => numel(p.batchShape) * tiles(p, k);

function uniforms(p: MatmulProblem): Uniform[] {
  return [...matmulUniforms(p), { name: 'kLen', type: 'u32', value: p.K }];
}

function body(b: ShaderBuilder, p: MatmulProblem, k: GemvVec4Knobs): string {
  const { M, N } = p;
  const N4 = N / 4;
  const lanes = k.workgroupSize / k.kSplit; // lanes owning column blocks
  const acc = (m: number, v: number): string => `acc${m}_${v}`;
  const rows = Array.from({ length: M }, (_, m) => m);
  const vs = Array.from({ length: k.vecs }, (_, v) => v);
  const step = (kk: string): string[] => ['{',
    ...rows.map((m) => `let a${m} = ${loadA(p, `${m}u`, kk)};`),
    ...vs.flatMap((v) => [
      `let b${v} = b[bOff4 + ${kk} * ${u32Lit(N4)} + rb${v}];`,
      ...rows.map((m) => `${acc(m, v)} = fma(vec4<f32>(a${m}), b${v}, ${acc(m, v)});`),
    ]), '}'];
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let batch = groupIdx / ${u32Lit(tiles(p, k))};`,
    batchOffsetSetup(b, p),
    'let bOff4 = bOff / 4u;',
    `let lane = lidx % ${u32Lit(lanes)};`,
    `let ks = lidx / ${u32Lit(lanes)};`,
    `let blk0 = (groupIdx % ${u32Lit(tiles(p, k))}) * ${u32Lit(blocksPerGroup(k))} + lane;`,
    ...vs.slice(1).map((v) => `let blk${v} = blk0 + ${u32Lit(v * lanes)};`),
    // Blocks past N read block 0 (always in range) and are never stored: no branch in the loop.
    ...vs.map((v) => `let live${v} = blk${v} < ${u32Lit(N4)};\nlet rb${v} = select(0u, blk${v}, live${v});`),
    ...rows.flatMap((m) => vs.map((v) => `var ${acc(m, v)} = vec4<f32>(0.0);`)),
    // Lane slice ks of K: [k0, k1), contiguous so each lane streams its own rows of B.
    `let kChunk = (params.kLen + ${u32Lit(k.kSplit - 1)}) / ${u32Lit(k.kSplit)};`,
    'let k0 = min(params.kLen, ks * kChunk);',
    'let k1 = min(params.kLen, k0 + kChunk);',
    'var kk = k0;',
  ];
  if (k.unroll > 1) {
    lines.push(`for (; kk + ${u32Lit(k.unroll - 1)} < k1; kk += ${u32Lit(k.unroll)}) {`);
    for (let u = 0; u < k.unroll; u++) lines.push(...step(`(kk + ${u32Lit(u)})`).map((l) => `  ${l}`));
    lines.push('}');
  }
  lines.push('for (; kk < k1; kk++) {', ...step('kk').map((l) => `  ${l}`), '}');
  if (k.kSplit > 1) {
    b.decl(`var<workgroup> partial: array<vec4<f32>, ${k.workgroupSize * M * k.vecs}>;`);
    const slot = (m: number, v: number): string => `(lidx * ${u32Lit(M * k.vecs)} + ${u32Lit(m * k.vecs + v)})`;
    lines.push(...rows.flatMap((m) => vs.map((v) => `partial[${slot(m, v)}] = ${acc(m, v)};`)), 'workgroupBarrier();');
    lines.push('if (ks != 0u) { return; }');
    lines.push(`for (var s = 1u; s < ${u32Lit(k.kSplit)}; s++) {`,
      ...rows.flatMap((m) => vs.map((v) => `  ${acc(m, v)} += partial[${slot(m, v)} + s * ${u32Lit(lanes * M * k.vecs)}];`)), '}');
  }
  for (const v of vs) {
    lines.push(`if (live${v}) {`);
    for (const m of rows) {
      for (let j = 0; j < 4; j++) {
        lines.push(`  { ${storeResult(b, p, `${m}u`, `(blk${v} * 4u + ${j}u)`, `${acc(m, v)}[${j}]`).replace(/\n/g, ' ')} }`);
      }
    }
    lines.push('}');
  }
  return lines.join('\n');
}

export const gemvVec4Template: KernelTemplate<MatmulProblem, GemvVec4Knobs> = {
  name: 'matmul-gemv-vec4',
  knobs: KNOBS,

  valid(p, k, dev) {
    if ((p.dtype ?? 'f32') !== 'f32') return 'f32 kernel';
    if (p.M < 1 || p.M > GEMV_VEC4_MAX_ROWS) return `gemv serves 1..${GEMV_VEC4_MAX_ROWS} rows, got M=${p.M}`;
    if (p.transB) return 'needs B[k, n] (n contiguous)';
    if (p.N % 4 !== 0 || p.N < 4 || p.K < 1) return 'needs N a multiple of 4';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup) return 'workgroup too large for the device';
    if (k.kSplit > 1 && k.workgroupSize * p.M * k.vecs * 16 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    if (p.M * k.vecs > 8) return 'more than 8 vec4 accumulators spill registers';
    return epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return `${matmulKey(p)};epi:${epilogueKey(p.epilogue)}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: matmulInputs(p), inputTypes: ['f32', 'vec4<f32>', 'f32'], outputs: ['out'], uniforms: uniforms(p) });
    return b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: uniforms(p) };
  },

  defaults(p) {
    // One K slice per lane while the column blocks alone give a few workgroups per core; more
    // slices when N is narrow.
    const blocks = p.N / 4;
    const kSplit = blocks >= 1024 ? 1 : blocks >= 256 ? 2 : 4;
    return { workgroupSize: 64, vecs: 1, kSplit, unroll: 1 };
  },
};
