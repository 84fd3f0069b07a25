// The register GEMM skeleton behind matmul-lanes and conv2d-lanes: no workgroup memory, no barriers.
// A workgroup owns `rows` rows of C (so every A load is workgroup-uniform: one scalar broadcast on
// lavapipe, where lanes are SIMD lanes of a CPU thread) and its `lanes` invocations own column groups
// of `vec` adjacent columns, `cols` groups each, `lanes` groups apart. Edge rows and columns load
// clamped (valid) addresses and are dropped at the store. Callers supply loads and the store.

import type { DeviceInfo } from '../kernel.ts';
import { ceilDiv, dispatchProblem, u32Lit } from './shader.ts';

// A type alias, not an interface: knob types must be assignable to Record<string, KnobValue>.
export type LaneGemmTiling = {
  /** Invocations per workgroup, all along N (8 = one AVX2 SIMD chunk on lavapipe). */
  readonly lanes: number;
  /** Rows of C per workgroup. */
  readonly rows: number;
  /** Column groups per invocation. */
  readonly cols: number;
  /** Adjacent columns per group: 4 = vec4 loads of B (the caller says when its layout allows). */
  readonly vec: number;
};

export interface LaneGemmSpec extends LaneGemmTiling {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Independent GEMMs (batch entries, images x conv groups); the body sees `batch: u32`. */
  readonly batches: number;
  /** Statements run once per workgroup after `batch` and `m0` are known (e.g. base offsets). */
  readonly setup: string;
  /**
   * A u32 expression >= K at run time that the shader compiler cannot evaluate (e.g. `arrayLength(&a)`
   * of an input with at least K elements): the K loop runs to min(K, it), which keeps lavapipe's LLVM
   * from unrolling it.
   */
  readonly kBound: string;
  /** A[m, k]; `m` is workgroup-uniform and in range. */
  loadA(m: string, k: string): string;
  /** Statements per column group `j` (its first column `n`), hoisted out of the K loop. */
  colSetup?(n: string, j: number): string;
  /** Statements at the top of each K iteration (`k` in scope; workgroup-uniform). */
  readonly kSetup?: string;
  /** B[k, n .. n+vec-1] as f32 (vec 1) or vec4<f32> (vec 4); `n` (column group `j`) in range, a multiple of vec. */
  loadB(k: string, n: string, j: number): string;
  /** Statements storing `v` (f32) at C[m, n]; only called for m < M, n < N. */
  store(m: string, n: string, v: string): string;
  /**
   * Statements storing `v` (vec4<f32>) at C[m, n..n+3] (n a multiple of 4, n + 3 < N) for vec 4: one
   * vector store instead of four scalar ones (with no uniform buffer: together ~1.3x on lavapipe).
   */
  storeVec4?(m: string, n: string, v: string): string;
}

/** Accumulators past this many (x vec) spill on lavapipe and cost LLVM time. */
export const MAX_LANE_ACCUMULATORS = 64;

export const LANE_GEMM_SPACE = {
  lanes: [8, 16, 32, 64],
  rows: [1, 2, 4, 8, 16],
  cols: [1, 2, 4, 8],
  vec: [1, 4],
} as const satisfies { readonly [P in keyof LaneGemmTiling]: readonly LaneGemmTiling[P][] };

type Dims = Pick<LaneGemmSpec, 'M' | 'N' | 'batches'>;

const colTiles = (s: Dims & LaneGemmTiling): number => ceilDiv(s.N, s.lanes * s.cols * s.vec);

export function laneGemmGroups(s: Dims & LaneGemmTiling): number {
  return ceilDiv(s.M, s.rows) * colTiles(s) * s.batches;
}

/** A reason the tiling cannot run on `dev`, or undefined; `vec4Ok` says whether the caller's B layout allows vec 4. */
export function laneTilingProblem(s: Dims & LaneGemmTiling, vec4Ok: boolean, dev: DeviceInfo): string | undefined {
  if (s.vec !== 1 && s.vec !== 4) return `vec ${s.vec} is not 1 or 4`;
  if (s.vec === 4 && !vec4Ok) return 'vec4 loads need B contiguous along N with N and batch offsets multiples of 4';
  if (s.rows * s.cols * s.vec > MAX_LANE_ACCUMULATORS) return `${s.rows}x${s.cols}x${s.vec} accumulators exceed ${MAX_LANE_ACCUMULATORS}`;
  const l = dev.limits;
  if (s.lanes > l.maxComputeInvocationsPerWorkgroup || s.lanes > l.maxComputeWorkgroupSizeX) return `workgroup ${s.lanes} exceeds the device's invocation limits`;
  return dispatchProblem(laneGemmGroups(s));
}

/**
 * Measured on lavapipe (64x512x4096 GEMM, PP-OCRv4 1x1 and 3x3 convs): one SIMD chunk of 8 lanes beat
 * 16..64-lane workgroups 1.5-4x, and 64 accumulators (8 rows x 8 columns) beat 32 by ~1.5x (cold
 * compile at the first dispatch: ~0.25 s for a 3x3 conv, ~0.55 s for a vec4 pointwise one). Fewer
 * rows when M is small.
 */
export function defaultLaneTiling(M: number, vec4Ok: boolean): LaneGemmTiling {
  const rows = M >= 8 ? 8 : M >= 4 ? 4 : M >= 2 ? 2 : 1;
  return vec4Ok ? { lanes: 8, rows, cols: 2, vec: 4 } : { lanes: 8, rows, cols: 8, vec: 1 };
}

/** The body of `main` (workgroup size [lanes, 1, 1]). */
export function laneGemmBody(s: LaneGemmSpec): string {
  const { rows: R, cols: J, vec: V, lanes: L, M, N, K } = s;
  const tilesN = colTiles(s);
  const tilesM = ceilDiv(M, R);
  const lastGroup = ceilDiv(N, V) - 1;
  const zero = V === 4 ? 'vec4<f32>()' : '0.0';
  const lines = [
    `if (groupIdx >= ${u32Lit(laneGemmGroups(s))}) { return; }`,
    // Rows vary fastest: neighbouring workgroups (the two CPU threads) share their slice of B.
    `let m0 = (groupIdx % ${u32Lit(tilesM)}) * ${R}u;`,
    `let g0 = ((groupIdx / ${u32Lit(tilesM)}) % ${u32Lit(tilesN)}) * ${u32Lit(L * J)} + lidx;`,
    `let batch = groupIdx / ${u32Lit(tilesM * tilesN)};`,
    s.setup,
  ];
  for (let i = 0; i < R; i++) lines.push(`let r${i} = min(m0 + ${i}u, ${u32Lit(M - 1)});`);
  for (let j = 0; j < J; j++) {
    lines.push(`let n${j} = min(g0 + ${u32Lit(j * L)}, ${u32Lit(lastGroup)}) * ${V}u;`);
    if (s.colSetup) lines.push(s.colSetup(`n${j}`, j));
  }
  for (let i = 0; i < R; i++) for (let j = 0; j < J; j++) lines.push(`var c${i}_${j} = ${zero};`);
  // An opaque trip count (= K at run time, as kBound has >= K elements) keeps lavapipe's LLVM from
  // unrolling the loop: less compile time, and measured no slower.
  lines.push(`let kEnd = min(${u32Lit(K)}, ${s.kBound});`, 'for (var k = 0u; k < kEnd; k++) {');
  if (s.kSetup) lines.push(`  ${s.kSetup.replace(/\n/g, '\n  ')}`);
  for (let j = 0; j < J; j++) lines.push(`  let b${j} = ${s.loadB('k', `n${j}`, j)};`);
  for (let i = 0; i < R; i++) {
    lines.push(`  let a${i} = ${V === 4 ? `vec4<f32>(${s.loadA(`r${i}`, 'k')})` : s.loadA(`r${i}`, 'k')};`);
    for (let j = 0; j < J; j++) lines.push(`  c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  }
  lines.push('}');
  // Results are stored from a loop over a private array: unrolled, the R x J guarded stores (each with
  // its epilogue) took lavapipe's LLVM 0.6-5 s per shader at the first dispatch against 0.2-0.7 s
  // looped, at the same run time (PP-OCRv4 1x1 and 3x3 convs with hardswish).
  const RJ = R * J;
  lines.push(`var res: array<${V === 4 ? 'vec4<f32>' : 'f32'}, ${RJ}>;`);
  for (let i = 0; i < R; i++) for (let j = 0; j < J; j++) lines.push(`res[${i * J + j}] = c${i}_${j};`);
  // arrayLength(&out) + RJ >= RJ, but LLVM cannot tell (u32 add may wrap): the loop stays a loop.
  // N is a multiple of vec (vec 4 is valid only then), so one guard covers a column group.
  lines.push(`let tEnd = min(${RJ}u, arrayLength(&out) + ${RJ}u);`, 'for (var t = 0u; t < tEnd; t++) {',
    `  let m = m0 + t / ${J}u;`, `  let gn = (g0 + (t % ${J}u) * ${u32Lit(L)}) * ${V}u;`, `  if (m < ${u32Lit(M)} && gn < ${u32Lit(N)}) {`, '    let cv = res[t];');
  if (V === 4 && s.storeVec4) lines.push(`    ${s.storeVec4('m', 'gn', 'cv').replace(/\n/g, '\n    ')}`);
  else {
    for (let e = 0; e < V; e++) lines.push(`    { let v = ${V === 4 ? `cv[${e}]` : 'cv'};`, `      ${s.store('m', `(gn + ${e}u)`, 'v').replace(/\n/g, '\n      ')} }`);
  }
  lines.push('  }', '}');
  return lines.join('\n');
}
