// f16 GEMM (any M): a workgroup of wgX x wgY threads computes a (wgY * rows) x (wgX * vec)
// output tile, staging f16 tiles of A and B (K step `tileK`) in workgroup memory. Accumulates
// in f32: f16 accumulation over K = 4096 loses ~5 bits, past the suite's 1e-3 output check.
// Output rounded once to f16. No transposes, bias or epilogue (matmul-f16-io.ts).

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { MatmulProblem } from '../problems.ts';
import { batchOffsetSetup, matmulUniforms } from '../wgsl/matmul-io.ts';
import { enableF16, f16Batches, f16MatmulIo, f16MatmulKey, f16MatmulProblem, loadA16, loadB16, storeF16, vecOf } from '../wgsl/matmul-f16-io.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface MatmulF16GemmKnobs {
  readonly [k: string]: number;
  /** Threads along N (each owns `vec` columns). */
  readonly wgX: number;
  /** Threads along M (each owns `rows` rows). */
  readonly wgY: number;
  readonly rows: number;
  readonly vec: number;
  readonly tileK: number;
}

const KNOBS: KnobSpace<MatmulF16GemmKnobs> = { wgX: [8, 16], wgY: [4, 8, 16], rows: [1, 2, 4, 8], vec: [1, 2, 4], tileK: [8, 16, 32] };

const tileM = (k: MatmulF16GemmKnobs): number => k.wgY * k.rows;
const tilesM = (p: MatmulProblem, k: MatmulF16GemmKnobs): number => ceilDiv(p.M, tileM(k));
const tilesN = (p: MatmulProblem, k: MatmulF16GemmKnobs): number => ceilDiv(p.N / k.vec, k.wgX);
const groups = (p: MatmulProblem, k: MatmulF16GemmKnobs): number => f16Batches(p) * tilesM(p, k) * tilesN(p, k);
const sharedBytes = (k: MatmulF16GemmKnobs): number => 2 * k.tileK * (tileM(k) + k.wgX * k.vec);

function body(b: ShaderBuilder, p: MatmulProblem, k: MatmulF16GemmKnobs): string {
  const { wgX, rows, vec, tileK: TK } = k;
  const BM = tileM(k);
  const T = wgX * k.wgY;
  const NV = p.N / vec;
  const [vf, vh] = [vecOf(vec, 'f32'), vecOf(vec, 'f16')];
  b.decl(`var<workgroup> aT: array<f16, ${BM * TK}>;`);
  b.decl(`var<workgroup> bT: array<${vh}, ${TK * wgX}>;`);
  const perBatch = tilesM(p, k) * tilesN(p, k);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let batch = groupIdx / ${u32Lit(perBatch)};`,
    `let t = groupIdx % ${u32Lit(perBatch)};`,
    `let m0 = (t / ${u32Lit(tilesN(p, k))}) * ${u32Lit(BM)};`,
    `let nv0 = (t % ${u32Lit(tilesN(p, k))}) * ${u32Lit(wgX)};`,
    batchOffsetSetup(b, p),
    `let tx = lidx % ${u32Lit(wgX)};`,
    `let ty = lidx / ${u32Lit(wgX)};`,
    // Scalars, not an array: a dynamically indexed private array lives in memory on lavapipe.
    ...Array.from({ length: rows }, (_, r) => `var acc${r} = ${vf}();`),
    `for (var k0 = 0u; k0 < ${u32Lit(p.K)}; k0 += ${u32Lit(TK)}) {`,
    // Out-of-range loads are clamped to a valid address and replaced by zero (no branches).
    `  for (var i = lidx; i < ${u32Lit(BM * TK)}; i += ${u32Lit(T)}) {`,
    `    let m = m0 + i / ${u32Lit(TK)};`,
    `    let kk = k0 + i % ${u32Lit(TK)};`,
    `    aT[i] = select(f16(), ${loadA16(p, `min(m, ${u32Lit(p.M - 1)})`, `min(kk, ${u32Lit(p.K - 1)})`)}, m < ${u32Lit(p.M)} && kk < ${u32Lit(p.K)});`,
    '  }',
    `  for (var i = lidx; i < ${u32Lit(TK * wgX)}; i += ${u32Lit(T)}) {`,
    `    let kk = k0 + i / ${u32Lit(wgX)};`,
    `    let nv = nv0 + i % ${u32Lit(wgX)};`,
    `    bT[i] = select(${vh}(), ${loadB16(p, vec, `min(kk, ${u32Lit(p.K - 1)})`, `min(nv, ${u32Lit(NV - 1)})`)}, kk < ${u32Lit(p.K)} && nv < ${u32Lit(NV)});`,
    '  }',
    '  workgroupBarrier();',
    `  for (var kk = 0u; kk < ${u32Lit(TK)}; kk++) {`,
    `    let bv = ${vf}(bT[kk * ${u32Lit(wgX)} + tx]);`,
    ...Array.from({ length: rows }, (_, r) => `    acc${r} = fma(${vf}(f32(aT[(ty * ${u32Lit(rows)} + ${r}u) * ${u32Lit(TK)} + kk])), bv, acc${r});`),
    '  }',
    '  workgroupBarrier();',
    '}',
    `let nv = nv0 + tx;`,
  ];
  for (let r = 0; r < rows; r++) {
    lines.push(`{ let m = m0 + ty * ${u32Lit(rows)} + ${r}u;`,
      `  if (m < ${u32Lit(p.M)} && nv < ${u32Lit(NV)}) { ${storeF16(p, vec, 'm', 'nv', `acc${r}`)} } }`);
  }
  return lines.join('\n');
}

export const matmulF16GemmTemplate: KernelTemplate<MatmulProblem, MatmulF16GemmKnobs> = {
  name: 'matmul-f16-gemm',
  knobs: KNOBS,

  valid(p, k, dev) {
    const why = f16MatmulProblem(p, k.vec, dev);
    if (why) return why;
    if (k.wgX * k.wgY > dev.limits.maxComputeInvocationsPerWorkgroup || k.wgX > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if (sharedBytes(k) > dev.limits.maxComputeWorkgroupStorageSize) return 'tiles exceed workgroup storage';
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key: f16MatmulKey,

  source(p, k) {
    const b = new ShaderBuilder(f16MatmulIo(p, k.vec));
    return enableF16(b.build([k.wgX * k.wgY, 1, 1], body(b, p, k)));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: matmulUniforms(p) };
  },

  defaults(p) {
    const vec = p.N % 4 === 0 ? 4 : p.N % 2 === 0 ? 2 : 1;
    // Measured on lavapipe at 64x4096x4096: 8x8 threads x 8 rows, tileK 32 beat 16x8 x 4 rows by 30%.
    return { wgX: 8, wgY: 8, rows: p.M >= 64 ? 8 : p.M >= 16 ? 2 : 1, vec, tileK: 32 };
  },
};
