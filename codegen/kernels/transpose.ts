// Transpose of any rank. Dims that stay adjacent are merged first. `tile` = 0 is a gather (one
// output per invocation, coalesced writes); tile T > 0 stages T x T tiles in workgroup memory
// so both reads and writes are coalesced, which needs the innermost dim to actually move.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { TransposeProblem } from '../problems.ts';
import { ceilDiv, coalesceDims, dispatchProblem, foldDispatch, offsetFn, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { numel, stridesOf } from '../../src/ir/shape.ts';

export type TransposeKnobs = {
  /** 0: gather; otherwise the square tile edge. */
  readonly tile: number;
  /** Invocations per workgroup; a tiled workgroup is tile x (workgroupSize / tile). */
  readonly workgroupSize: number;
};

const KNOBS: KnobSpace<TransposeKnobs> = { tile: [0, 8, 16, 32], workgroupSize: [64, 128, 256] };

interface Plan {
  readonly shape: number[]; // coalesced, in output order
  readonly outStrides: number[];
  readonly inStrides: number[];
}

function plan(p: TransposeProblem): Plan {
  const inStrides = stridesOf(p.inShape);
  const outShape = p.perm.map((d) => p.inShape[d] as number);
  const c = coalesceDims(outShape, [stridesOf(outShape), p.perm.map((d) => inStrides[d] as number)]);
  return { shape: c.shape, outStrides: c.strides[0] as number[], inStrides: c.strides[1] as number[] };
}

/** The tile plane: u = the dim read contiguously, v = the dim written contiguously (output order). */
function tilePlane(pl: Plan): { u: number; v: number } | undefined {
  const v = pl.shape.length - 1;
  const u = pl.inStrides.indexOf(1);
  return v >= 1 && u >= 0 && u !== v ? { u, v } : undefined;
}

function groups(p: TransposeProblem, k: TransposeKnobs): number {
  if (k.tile === 0) return ceilDiv(numel(p.inShape), k.workgroupSize);
  const pl = plan(p);
  const { u, v } = tilePlane(pl) as { u: number; v: number };
  const su = pl.shape[u] as number;
  const sv = pl.shape[v] as number;
  return ceilDiv(su, k.tile) * ceilDiv(sv, k.tile) * (numel(pl.shape) / (su * sv));
}

function tiledBody(b: ShaderBuilder, pl: Plan, k: TransposeKnobs): string {
  const { u, v } = tilePlane(pl) as { u: number; v: number };
  const T = k.tile;
  const rows = k.workgroupSize / T;
  const su = pl.shape[u] as number;
  const sv = pl.shape[v] as number;
  const rest = pl.shape.map((_, d) => d).filter((d) => d !== u && d !== v);
  const pick = (xs: number[]): number[] => rest.map((d) => xs[d] as number);
  b.helper('inBase', offsetFn('inBase', pick(pl.shape), pick(pl.inStrides)));
  b.helper('outBase', offsetFn('outBase', pick(pl.shape), pick(pl.outStrides)));
  b.decl(`var<workgroup> tile: array<f32, ${T * (T + 1)}>;`); // +1 column: no bank conflicts on the transposed read
  const tilesU = ceilDiv(su, T);
  const tilesV = ceilDiv(sv, T);
  return [
    `if (groupIdx >= ${u32Lit(tilesU * tilesV * (numel(pl.shape) / (su * sv)))}) { return; }`,
    `let u0 = (groupIdx % ${u32Lit(tilesU)}) * ${T}u;`,
    `let v0 = ((groupIdx / ${u32Lit(tilesU)}) % ${u32Lit(tilesV)}) * ${T}u;`,
    `let rest = groupIdx / ${u32Lit(tilesU * tilesV)};`,
    'let inOff = inBase(rest);', 'let outOff = outBase(rest);',
    `for (var r = lid.y; r < ${T}u; r += ${rows}u) {`,
    '  let cu = u0 + lid.x;', '  let cv = v0 + r;',
    `  if (cu < ${u32Lit(su)} && cv < ${u32Lit(sv)}) { tile[r * ${T + 1}u + lid.x] = src[inOff + cu + cv * ${u32Lit(pl.inStrides[v] as number)}]; }`,
    '}',
    'workgroupBarrier();',
    `for (var r = lid.y; r < ${T}u; r += ${rows}u) {`,
    '  let cv = v0 + lid.x;', '  let cu = u0 + r;',
    `  if (cu < ${u32Lit(su)} && cv < ${u32Lit(sv)}) { dst[outOff + cu * ${u32Lit(pl.outStrides[u] as number)} + cv] = tile[lid.x * ${T + 1}u + r]; }`,
    '}',
  ].join('\n');
}

export const transposeTemplate: KernelTemplate<TransposeProblem, TransposeKnobs> = {
  name: 'transpose',
  knobs: KNOBS,

  valid(p, k, dev) {
    const sorted = [...p.perm].sort((a, b) => a - b);
    if (p.perm.length !== p.inShape.length || sorted.some((d, i) => d !== i)) return `perm [${p.perm.join(',')}] is not a permutation`;
    if (numel(p.inShape) > 0xffffffff - k.workgroupSize) return 'too many elements for u32 indexing';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup) return `workgroup ${k.workgroupSize} > maxComputeInvocationsPerWorkgroup`;
    if (k.tile > 0) {
      if (!tilePlane(plan(p))) return 'innermost dim does not move: the gather is already coalesced';
      const rows = k.workgroupSize / k.tile;
      if (!Number.isInteger(rows) || rows > k.tile) return `workgroup ${k.workgroupSize} does not give 1..${k.tile} rows of ${k.tile}`;
      if (k.tile > dev.limits.maxComputeWorkgroupSizeX || rows > dev.limits.maxComputeWorkgroupSizeY) return 'workgroup exceeds per-dimension limits';
      if (4 * k.tile * (k.tile + 1) > dev.limits.maxComputeWorkgroupStorageSize) return 'tile exceeds workgroup storage';
    } else if (k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup exceeds maxComputeWorkgroupSizeX';
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return `in[${p.inShape.join(',')}]perm[${p.perm.join(',')}]`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['src'], outputs: ['dst'] });
    const pl = plan(p);
    if (k.tile > 0) return b.build([k.tile, k.workgroupSize / k.tile, 1], tiledBody(b, pl, k));
    b.helper('srcOffset', offsetFn('srcOffset', pl.shape, pl.inStrides));
    const body = [
      `let i = groupIdx * ${u32Lit(k.workgroupSize)} + lidx;`,
      `if (i >= ${u32Lit(numel(p.inShape))}) { return; }`,
      'dst[i] = src[srcOffset(i)];',
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: [] };
  },

  defaults(p) {
    // 16x16 tiles of 256 invocations (16 rows): within WebGPU's guaranteed limits. A plane with a
    // side under 16 (depth_to_space's b x b blocks) would leave most of each tile empty: gather.
    const pl = plan(p);
    const t = tilePlane(pl);
    const wide = t && (pl.shape[t.u] as number) >= 16 && (pl.shape[t.v] as number) >= 16;
    return wide ? { tile: 16, workgroupSize: 256 } : { tile: 0, workgroupSize: 256 };
  },
};
