// f32 matrix-vector products (op(A) with at most 8 rows), B read as vec4s. B[k, n] (N % 4 == 0):
// each lane owns `vecs` blocks of 4 neighbouring columns (strided by the lane count, so neighbouring
// lanes read neighbouring 16-byte blocks). B[n, k] (transB, PyTorch Linear weights; K % 4 == 0):
// each lane owns whole columns and streams them as vec4s along K. On lavapipe every lane-varying load
// is a separate per-lane access, so vec4 loads (of A too, when K % 4 == 0) are what bring the weight
// stream toward the copy roofline. With kSplit > 1 lanes also split K, reduced in workgroup memory
// (for GPUs, where N/4 lanes alone do not fill the device). Loop bounds are uniforms: literal bounds
// make lavapipe's LLVM unroll the whole K loop.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { batchOffsetSetup, loadA, matmulInputs, matmulKey, matmulUniforms, storeResult } from '../wgsl/matmul-io.ts';
import { kSliceLoop } from '../wgsl/k-slices.ts';
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

/** B[n, k] (transB): each lane owns whole columns and reads them as vec4s along K. */
const rowMode = (p: MatmulProblem): boolean => p.transB;
/** A read as vec4s (4 K steps at once): K % 4 == 0 and A[m, k] contiguous. */
const aVec = (p: MatmulProblem): boolean => p.K % 4 === 0 && !p.transA;
/** Units lanes own: column blocks of 4 (B[k, n]) or single columns (B[n, k]). */
const units = (p: MatmulProblem): number => (rowMode(p) ? p.N : p.N / 4);
const unitsPerGroup = (k: GemvVec4Knobs): number => (k.workgroupSize / k.kSplit) * k.vecs;
const tiles = (p: MatmulProblem, k: GemvVec4Knobs): number => ceilDiv(units(p), unitsPerGroup(k));
const groups = (p: MatmulProblem, k: GemvVec4Knobs): number => numel(p.batchShape) * tiles(p, k);
/** K steps of one loop iteration: 4 when A or B is read as vec4 along K. */
const kStep = (p: MatmulProblem): number => (rowMode(p) || aVec(p) ? 4 : 1);

function uniforms(p: MatmulProblem): Uniform[] {
  return [...matmulUniforms(p), { name: 'steps', type: 'u32', value: p.K / kStep(p) }];
}

/** Statements of one step `s` (a K index, or a K/4 index when kStep is 4). */
function stepLines(p: MatmulProblem, k: GemvVec4Knobs, s: string): string[] {
  const rows = Array.from({ length: p.M }, (_, m) => m);
  const vs = Array.from({ length: k.vecs }, (_, v) => v);
  const acc = (m: number, v: number): string => `acc${m}_${v}`;
  const lines: string[] = [];
  if (aVec(p)) lines.push(...rows.map((m) => `let a${m} = a[aOff4 + ${u32Lit((m * p.K) / 4)} + ${s}];`));
  else if (rowMode(p)) lines.push(...rows.map((m) => `let a${m} = vec4<f32>(${[0, 1, 2, 3].map((j) => loadA(p, `${m}u`, `(${s} * 4u + ${j}u)`)).join(', ')});`));
  else lines.push(...rows.map((m) => `let a${m} = ${loadA(p, `${m}u`, s)};`));
  for (const v of vs) {
    if (rowMode(p)) {
      lines.push(`let b${v} = b[bOff4 + rb${v} * ${u32Lit(p.K / 4)} + ${s}];`, ...rows.map((m) => `${acc(m, v)} = fma(a${m}, b${v}, ${acc(m, v)});`));
    } else if (aVec(p)) {
      for (let j = 0; j < 4; j++) {
        lines.push(`let b${v}_${j} = b[bOff4 + (${s} * 4u + ${j}u) * ${u32Lit(p.N / 4)} + rb${v}];`,
          ...rows.map((m) => `${acc(m, v)} = fma(vec4<f32>(a${m}[${j}]), b${v}_${j}, ${acc(m, v)});`));
      }
    } else {
      lines.push(`let b${v} = b[bOff4 + ${s} * ${u32Lit(p.N / 4)} + rb${v}];`, ...rows.map((m) => `${acc(m, v)} = fma(vec4<f32>(a${m}), b${v}, ${acc(m, v)});`));
    }
  }
  return ['{', ...lines.map((l) => `  ${l}`), '}'];
}

function body(b: ShaderBuilder, p: MatmulProblem, k: GemvVec4Knobs): string {
  const { M } = p;
  const lanes = k.workgroupSize / k.kSplit; // lanes owning units
  const acc = (m: number, v: number): string => `acc${m}_${v}`;
  const rows = Array.from({ length: M }, (_, m) => m);
  const vs = Array.from({ length: k.vecs }, (_, v) => v);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let batch = groupIdx / ${u32Lit(tiles(p, k))};`,
    batchOffsetSetup(b, p),
    'let bOff4 = bOff / 4u;',
    ...(aVec(p) ? ['let aOff4 = aOff / 4u;'] : []),
    `let lane = lidx % ${u32Lit(lanes)};`,
    `let ks = lidx / ${u32Lit(lanes)};`,
    `let u0 = (groupIdx % ${u32Lit(tiles(p, k))}) * ${u32Lit(unitsPerGroup(k))} + lane;`,
    ...vs.slice(1).map((v) => `let u${v} = u0 + ${u32Lit(v * lanes)};`),
    // Units past the end read unit 0 (always in range) and are never stored: no branch in the loop.
    ...vs.map((v) => `let live${v} = u${v} < ${u32Lit(units(p))};\nlet rb${v} = select(0u, u${v}, live${v});`),
    ...rows.flatMap((m) => vs.map((v) => `var ${acc(m, v)} = vec4<f32>(0.0);`)),
  ];
  // Lane slice ks of the steps, contiguous so each lane streams its own part of B.
  lines.push(...kSliceLoop(k.kSplit, k.unroll, (s) => stepLines(p, k, s)));
  if (k.kSplit > 1) {
    b.decl(`var<workgroup> partial: array<vec4<f32>, ${k.workgroupSize * M * k.vecs}>;`);
    const slot = (m: number, v: number): string => `(lidx * ${u32Lit(M * k.vecs)} + ${u32Lit(m * k.vecs + v)})`;
    lines.push(...rows.flatMap((m) => vs.map((v) => `partial[${slot(m, v)}] = ${acc(m, v)};`)), 'workgroupBarrier();');
    lines.push('if (ks != 0u) { return; }');
    lines.push('for (var i = 1u; i < ' + u32Lit(k.kSplit) + '; i++) {',
      ...rows.flatMap((m) => vs.map((v) => `  ${acc(m, v)} += partial[${slot(m, v)} + i * ${u32Lit(lanes * M * k.vecs)}];`)), '}');
  }
  for (const v of vs) {
    lines.push(`if (live${v}) {`);
    for (const m of rows) {
      // Row mode: one column, its vec4 accumulator summed; column mode: 4 columns.
      const outs: [string, string][] = rowMode(p)
        ? [[`u${v}`, `dot(${acc(m, v)}, vec4<f32>(1.0))`]]
        : [0, 1, 2, 3].map((j) => [`(u${v} * 4u + ${j}u)`, `${acc(m, v)}[${j}]`]);
      for (const [n, val] of outs) lines.push(`  { ${storeResult(b, p, `${m}u`, n, val).replace(/\n/g, ' ')} }`);
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
    if (p.N < 1 || p.K < 1) return 'empty matmul';
    if (rowMode(p) ? p.K % 4 !== 0 : p.N % 4 !== 0) return p.transB ? 'B[n, k] needs K a multiple of 4' : 'B[k, n] needs N a multiple of 4';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup) return 'workgroup too large for the device';
    if (k.kSplit > 1 && k.workgroupSize * p.M * k.vecs * 16 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    if (p.M * k.vecs > 8) return 'more than 8 vec4 accumulators spill registers';
    return epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return `${matmulKey(p)};epi:${epilogueKey(p.epilogue)}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: matmulInputs(p), inputTypes: [aVec(p) ? 'vec4<f32>' : 'f32', 'vec4<f32>', 'f32'], outputs: ['out'], uniforms: uniforms(p) });
    return b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: uniforms(p) };
  },

  defaults(p) {
    return { workgroupSize: 64, vecs: 1, kSplit: gemvKSplit(units(p)), unroll: 1 };
  },
};

/**
 * Lanes per unit so that about 16K invocations stream the weight: a GPU needs that many in flight
 * to reach its memory bandwidth, and on lavapipe (2 threads) splitting K costs nothing measurable.
 */
export function gemvKSplit(units: number): number {
  let s = 1;
  while (s < 8 && units * s < 16384) s *= 2;
  return s;
}
