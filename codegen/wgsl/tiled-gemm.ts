// The shared-memory tiled GEMM skeleton behind matmul and implicit-GEMM conv: a workgroup owns
// a tileM x tileN block of C for one batch, stages tileK-deep slices of A and B in workgroup
// memory, and each invocation accumulates a microM x microN register tile (strided rows/cols).
// Callers supply how to load A[m,k] / B[k,n] (in-bounds only) and how to store one result.

import type { DeviceInfo } from '../kernel.ts';
import { ceilDiv, dispatchProblem, indent, u32Lit, type ShaderBuilder } from './shader.ts';

// A type alias, not an interface: knob types must be assignable to Record<string, KnobValue>.
export type GemmTiling = {
  readonly tileM: number;
  readonly tileN: number;
  readonly tileK: number;
  readonly microM: number;
  readonly microN: number;
  /** Emit the register tile as scalars with straight-line code instead of loops over arrays. */
  readonly unroll: boolean;
};

export interface TiledGemmSpec extends GemmTiling {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Independent GEMMs (batch entries, conv groups); the body sees `batch: u32`. */
  readonly batches: number;
  /** Which index is contiguous in memory, so staging loads walk it with adjacent invocations. */
  readonly aContiguous: 'm' | 'k';
  readonly bContiguous: 'k' | 'n';
  /** Statements run once per workgroup after `batch`, `m0`, `n0` are known (e.g. base offsets). */
  readonly setup: string;
  loadA(m: string, k: string): string;
  loadB(k: string, n: string): string;
  /** Statements storing `v` (f32) at C[m, n]; only called for m < M, n < N. */
  store(m: string, n: string, v: string): string;
}

export const MAX_MICRO_TILE = 32;

/** The tiling search space both GEMM-shaped templates declare. */
export const GEMM_TILING_SPACE = {
  tileM: [4, 8, 16, 32, 64],
  tileN: [8, 16, 32, 64],
  tileK: [4, 8, 16, 32],
  microM: [1, 2, 4],
  microN: [1, 2, 4],
  unroll: [true, false],
} as const satisfies { readonly [P in keyof GemmTiling]: readonly GemmTiling[P][] };

/**
 * Tiles just covering small dims (less padding waste); micro tiles keep the workgroup within
 * 16x16, i.e. inside WebGPU's guaranteed 256 invocations and 16 KiB of workgroup storage.
 */
export function defaultTiling(M: number, N: number, K: number): GemmTiling {
  const tile = (d: number, min: number): number => Math.min(64, Math.max(min, 2 ** Math.ceil(Math.log2(d))));
  const tileM = tile(M, 4);
  const tileN = tile(N, 8);
  const micro = (t: number): number => Math.min(4, Math.max(1, t / 16));
  return { tileM, tileN, tileK: K <= 4 ? 4 : K <= 8 ? 8 : 16, microM: micro(tileM), microN: micro(tileN), unroll: true };
}

export function gemmWorkgroupSize(t: GemmTiling): [number, number, number] {
  return [t.tileN / t.microN, t.tileM / t.microM, 1];
}

export function tiledGemmGroups(s: Pick<TiledGemmSpec, 'M' | 'N' | 'tileM' | 'tileN' | 'batches'>): number {
  return ceilDiv(s.M, s.tileM) * ceilDiv(s.N, s.tileN) * s.batches;
}

/** A reason the tiling cannot run on `dev`, or undefined. */
export function tilingProblem(s: Pick<TiledGemmSpec, 'M' | 'N' | 'batches'> & GemmTiling, dev: DeviceInfo): string | undefined {
  if (s.tileM % s.microM || s.tileN % s.microN) return 'micro tile must divide the workgroup tile';
  if (s.microM * s.microN > MAX_MICRO_TILE) return `micro tile ${s.microM}x${s.microN} exceeds ${MAX_MICRO_TILE} registers`;
  const [x, y] = gemmWorkgroupSize(s);
  const l = dev.limits;
  if (x * y > l.maxComputeInvocationsPerWorkgroup) return `${x * y} invocations > maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`;
  if (x > l.maxComputeWorkgroupSizeX || y > l.maxComputeWorkgroupSizeY) return `workgroup ${x}x${y} exceeds the per-dimension limits`;
  const bytes = 4 * s.tileK * (s.tileM + s.tileN);
  if (bytes > l.maxComputeWorkgroupStorageSize) return `${bytes} B workgroup storage > ${l.maxComputeWorkgroupStorageSize}`;
  return dispatchProblem(tiledGemmGroups(s));
}

function microLoops(s: TiledGemmSpec, wgx: number, wgy: number): { acc: string; inner: string; result: (i: number, j: number) => string } {
  const { microM: TM, microN: TN, tileM: BM, tileN: BN } = s;
  if (!s.unroll) {
    return {
      acc: `var acc: array<f32, ${TM * TN}>;\nvar ra: array<f32, ${TM}>;\nvar rb: array<f32, ${TN}>;`,
      inner: [
        `for (var i = 0u; i < ${TM}u; i++) { ra[i] = sA[kk * ${BM}u + ty + i * ${wgy}u]; }`,
        `for (var j = 0u; j < ${TN}u; j++) { rb[j] = sB[kk * ${BN}u + tx + j * ${wgx}u]; }`,
        `for (var i = 0u; i < ${TM}u; i++) {`,
        `  for (var j = 0u; j < ${TN}u; j++) { acc[i * ${TN}u + j] = fma(ra[i], rb[j], acc[i * ${TN}u + j]); }`,
        '}',
      ].join('\n'),
      result: (i, j) => `acc[${i * TN + j}]`,
    };
  }
  const decl: string[] = [];
  const inner: string[] = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) decl.push(`var c${i}_${j} = 0.0;`);
  for (let i = 0; i < TM; i++) inner.push(`let a${i} = sA[kk * ${BM}u + ty + ${i * wgy}u];`);
  for (let j = 0; j < TN; j++) inner.push(`let b${j} = sB[kk * ${BN}u + tx + ${j * wgx}u];`);
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) inner.push(`c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  return { acc: decl.join('\n'), inner: inner.join('\n'), result: (i, j) => `c${i}_${j}` };
}

/** Declares the shared tiles on `b`; returns the workgroup size and the body of `main`. */
export function tiledGemmBody(b: ShaderBuilder, s: TiledGemmSpec): { workgroupSize: [number, number, number]; body: string } {
  const { tileM: BM, tileN: BN, tileK: BK, M, N, K } = s;
  const [wgx, wgy] = gemmWorkgroupSize(s);
  const nt = wgx * wgy;
  const tilesN = ceilDiv(N, BN);
  const tilesM = ceilDiv(M, BM);
  b.decl(`var<workgroup> sA: array<f32, ${BK * BM}>;\nvar<workgroup> sB: array<f32, ${BK * BN}>;`);
  const aIdx = s.aContiguous === 'k' ? [`l / ${BK}u`, `l % ${BK}u`] : [`l % ${BM}u`, `l / ${BM}u`];
  const bIdx = s.bContiguous === 'n' ? [`l / ${BN}u`, `l % ${BN}u`] : [`l % ${BK}u`, `l / ${BK}u`];
  const micro = microLoops(s, wgx, wgy);
  const stores: string[] = [];
  for (let i = 0; i < s.microM; i++) {
    for (let j = 0; j < s.microN; j++) {
      stores.push(`{\n  let gm = m0 + ty + ${i * wgy}u;\n  let gn = n0 + tx + ${j * wgx}u;`,
        `  if (gm < ${u32Lit(M)} && gn < ${u32Lit(N)}) {\n    let v = ${micro.result(i, j)};`,
        indent(s.store('gm', 'gn', 'v'), 4), '  }\n}');
    }
  }
  const body = [
    `if (groupIdx >= ${u32Lit(tilesN * tilesM * s.batches)}) { return; }`,
    `let n0 = (groupIdx % ${u32Lit(tilesN)}) * ${BN}u;`,
    `let m0 = ((groupIdx / ${u32Lit(tilesN)}) % ${u32Lit(tilesM)}) * ${BM}u;`,
    `let batch = groupIdx / ${u32Lit(tilesN * tilesM)};`,
    'let tx = lid.x;', 'let ty = lid.y;',
    s.setup,
    micro.acc,
    `for (var k0 = 0u; k0 < ${u32Lit(K)}; k0 += ${BK}u) {`,
    `  for (var l = lidx; l < ${BM * BK}u; l += ${nt}u) {`,
    `    let mm = ${aIdx[0]};\n    let kk = ${aIdx[1]};`,
    '    let gm = m0 + mm;\n    let gk = k0 + kk;\n    var v = 0.0;',
    `    if (gm < ${u32Lit(M)} && gk < ${u32Lit(K)}) { v = ${s.loadA('gm', 'gk')}; }`,
    `    sA[kk * ${BM}u + mm] = v;`,
    '  }',
    `  for (var l = lidx; l < ${BK * BN}u; l += ${nt}u) {`,
    `    let kk = ${bIdx[0]};\n    let nn = ${bIdx[1]};`,
    '    let gk = k0 + kk;\n    let gn = n0 + nn;\n    var v = 0.0;',
    `    if (gk < ${u32Lit(K)} && gn < ${u32Lit(N)}) { v = ${s.loadB('gk', 'gn')}; }`,
    `    sB[kk * ${BN}u + nn] = v;`,
    '  }',
    '  workgroupBarrier();',
    `  for (var kk = 0u; kk < ${BK}u; kk++) {`,
    indent(micro.inner, 4),
    '  }',
    '  workgroupBarrier();',
    '}',
    ...stores,
  ].join('\n');
  return { workgroupSize: [wgx, wgy, 1], body };
}
