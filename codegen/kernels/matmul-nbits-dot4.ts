// WxAy matmul on 8-bit dot products (dot4U8Packed or a fallback): dense quantize_act codes (2..8 bits)
// and dense b-bit weights (1..8) expanded in-register to byte quads. A workgroup owns rows x cols outputs
// and splits K in 32-code chunks over its lanes; per chunk, code sums fix both zero points exactly.
// M <= 8 (more: matmul-nbits-dot4-gemm); groups multiples of 32 or per-channel; planes: popcount kernels.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { chunkQuad, dot4Spelling, hasDot4, QUAD, quadBytesFn, quadFieldFn, type Dot4Spelling } from '../wgsl/dot4.ts';
import { applyEpilogue, epilogueProblem } from '../wgsl/expr.ts';
import { CHUNK, nbitsInputs, nbitsInputTypes, nbitsKey, packedGroups, packedProblem, rowWords } from '../wgsl/packed.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { actRowWords } from '../../src/quant/act.ts';

export interface NBitsDot4Knobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** Rows of A per workgroup; weight quads are shared among them. */
  readonly rows: number;
  /** Output columns (rows of W) per workgroup; activation quads are shared among them. */
  readonly cols: number;
  /** 1: dot4U8Packed (needs the WGSL feature); 0: integer multiply-adds on unpacked lanes. */
  readonly dot4: number;
  /** 1: whole chunks load their words once and unroll 8 quads with literal shifts; 0: a quad loop. */
  readonly unroll: number;
}

const KNOBS: KnobSpace<NBitsDot4Knobs> = { workgroupSize: [32, 64, 128, 256], rows: [1, 2, 4, 8], cols: [1, 2, 4, 8], dot4: [1, 0], unroll: [1, 0] };
/** Past this many rows the tiled dot4 GEMM wins (H200: 1.3 vs 1.7 ms at 64x4096·4096; 0.36 vs 1.0 ms at 8 rows). */
export const NBITS_DOT4_MAX_ROWS = 8;
/** Accumulators per invocation beyond which registers spill. */
const MAX_ACCUMULATORS = 32;
/** Unrolled chunks past this many accumulators cost lavapipe's LLVM seconds per shader. */
const MAX_UNROLLED_ACCUMULATORS = 4;
/** Weight zero points split into an integer part (exact in the u32 sums) and a float rest; this bounds the integer part. */
export const MAX_INT_ZERO = 1024;

const colGroups = (p: MatmulNBitsProblem, k: NBitsDot4Knobs): number => ceilDiv(p.N, k.cols);
const groups = (p: MatmulNBitsProblem, k: NBitsDot4Knobs): number => ceilDiv(p.M, k.rows) * colGroups(p, k);
const actBits = (p: MatmulNBitsProblem): number => p.actBits ?? 0;

/** Why this problem is not a dense-times-dense WxAy product of whole-chunk groups, or undefined. */
export function dot4ProblemShape(p: MatmulNBitsProblem): string | undefined {
  if (!p.actBits) return 'f32 activations are served by the weight-only templates';
  if (p.actLayout !== 'dense') return `dot4 kernels read dense activation codes, not ${p.actLayout ?? 'planes'}`;
  if (p.layout !== 'dense') return 'dot4 kernels read dense weight codes, not planes';
  if (p.actBits < 2 || p.actBits > 8) return `activation bits must be 2..8, got ${p.actBits}`;
  if (p.group % CHUNK !== 0 && p.group < p.K) return `group ${p.group} must be a multiple of ${CHUNK} or per-channel (>= K=${p.K})`;
  if (p.M * actRowWords(p.K, p.actBits, 'dense') > 0xffffffff || p.M * p.N > 0xffffffff) return 'operands overflow u32 indexing';
  return packedProblem(p) ?? epilogueProblem(p.epilogue);
}

/** Loop trip counts are uniforms so lavapipe's LLVM does not unroll them (see matmul-nbits-gemv). */
function dot4Uniforms(k: NBitsDot4Knobs): Uniform[] {
  return [{ name: 'quads', type: 'u32', value: CHUNK / QUAD }, { name: 'accs', type: 'u32', value: k.rows * k.cols }];
}

/** Quad statements: unrolled over a whole chunk's preloaded words, or a loop masking lanes past K. */
function quadStatements(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsDot4Knobs, d4: Dot4Spelling, unrolled: boolean): string[] {
  const ab = actBits(p);
  const step = (w: (j: number) => string, x: (r: number) => string, mask: string): string[] => {
    const lines: string[] = [];
    for (let j = 0; j < k.cols; j++) lines.push(`let wq${j} = ${w(j)}${mask};`, `sw_sum${j} += ${d4.sum(`wq${j}`)};`);
    for (let r = 0; r < k.rows; r++) {
      lines.push(`let aq${r} = ${x(r)}${mask};`, `sa_sum${r} += ${d4.sum(`aq${r}`)};`);
      for (let j = 0; j < k.cols; j++) lines.push(`d${r}_${j} += ${d4.dot(`aq${r}`, `wq${j}`)};`);
    }
    return lines;
  };
  if (unrolled) {
    const out: string[] = [];
    for (let j = 0; j < k.cols; j++) for (let i = 0; i < p.bits; i++) out.push(`let w${j}_${i} = words[wb${j} + ${u32Lit(i)}];`);
    for (let r = 0; r < k.rows; r++) for (let i = 0; i < ab; i++) out.push(`let x${r}_${i} = a[xb${r} + ${u32Lit(i)}];`);
    for (let q = 0; q < CHUNK / QUAD; q++) {
      out.push('{', ...step((j) => chunkQuad(b, p.bits, (i) => `w${j}_${i}`, q), (r) => chunkQuad(b, ab, (i) => `x${r}_${i}`, q), '').map((l) => `  ${l}`), '}');
    }
    return out;
  }
  const wField = quadFieldFn(b, 'quad_field_w', 'words', p.bits);
  const aField = quadFieldFn(b, 'quad_field_a', 'a', ab);
  const head = [
    `let live = min(nc - min(nc, q * ${u32Lit(QUAD)}), ${u32Lit(QUAD)});`,
    // A shift by 32 would be taken mod 32, hence the select for whole quads.
    'let lanes = select((1u << (live * 8u)) - 1u, 0xffffffffu, live == 4u);',
    `let wbit = q * ${u32Lit(QUAD * p.bits)};`,
    `let abit = q * ${u32Lit(QUAD * ab)};`,
  ];
  const body = step((j) => `${quadBytesFn(b, p.bits)}(${wField}(wb${j} + (wbit >> 5u), wbit & 31u))`,
    (r) => `${quadBytesFn(b, ab)}(${aField}(xb${r} + (abit >> 5u), abit & 31u))`, ' & lanes');
  return ['for (var q = 0u; q < params.quads; q++) {', ...[...head, ...body].map((l) => `  ${l}`), '}'];
}

/**
 * Statements accumulating chunk `c` (codes 32c..32c+nc-1) into acc<r>_<j>. Integer part per (r, j):
 * E = sum (qa - za)(qw - zi) = D - za*SW - zi*SA + nc*za*zi, exact in wrapping u32 and then in f32
 * (|E| <= 32 * 255 * (255 + MAX_INT_ZERO) < 2^24); the rest, -zf * sum (qa - za), in f32. The loop
 * form masks lanes past K on both sides, so words read past a row's end never count.
 */
function chunkBody(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsDot4Knobs, d4: Dot4Spelling, unrolled: boolean): string[] {
  const ab = actBits(p);
  const G = packedGroups(p);
  const out: string[] = [`let nc = min(${u32Lit(CHUNK)}, ${u32Lit(p.K)} - c * ${u32Lit(CHUNK)});`];
  for (let j = 0; j < k.cols; j++) {
    out.push(G === 1 ? `let gi${j} = n${j};` : `let gi${j} = n${j} * ${u32Lit(G)} + c / ${u32Lit(p.group / CHUNK)};`,
      `let sw${j} = scales[gi${j}];`,
      `let zw${j} = zeros[gi${j}];`,
      `let zi${j} = i32(clamp(floor(zw${j}), ${-MAX_INT_ZERO}.0, ${MAX_INT_ZERO}.0));`,
      `let zf${j} = zw${j} - f32(zi${j});`,
      `let wb${j} = n${j} * ${u32Lit(rowWords(p))} + c * ${u32Lit(p.bits)};`,
      `var sw_sum${j} = 0u;`);
  }
  for (let r = 0; r < k.rows; r++) {
    out.push(`let xb${r} = ra${r} + 2u + c * ${u32Lit(ab)};`, `var sa_sum${r} = 0u;`);
    for (let j = 0; j < k.cols; j++) out.push(`var d${r}_${j} = 0u;`);
  }
  out.push(...quadStatements(b, p, k, d4, unrolled));
  for (let r = 0; r < k.rows; r++) {
    out.push(`let nza${r} = nc * za${r};`, `let sac${r} = f32(bitcast<i32>(sa_sum${r} - nza${r}));`);
    for (let j = 0; j < k.cols; j++) {
      out.push(`let e${r}_${j} = d${r}_${j} - za${r} * sw_sum${j} - bitcast<u32>(zi${j}) * sa_sum${r} + nza${r} * bitcast<u32>(zi${j});`,
        `acc${r}_${j} = fma(sw${j}, f32(bitcast<i32>(e${r}_${j})) - zf${j} * sac${r}, acc${r}_${j});`);
    }
  }
  return out;
}

function body(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsDot4Knobs): string {
  const WG = k.workgroupSize;
  const RC = k.rows * k.cols;
  const aRow = actRowWords(p.K, actBits(p), 'dense');
  const chunks = ceilDiv(p.K, CHUNK);
  const full = Math.floor(p.K / CHUNK);
  const d4 = dot4Spelling(b, k.dot4 === 1);
  const indent = (ls: string[]): string[] => ls.map((l) => `  ${l}`);
  b.decl(`var<workgroup> partial: array<f32, ${WG * RC}>;`);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let mb = (groupIdx / ${u32Lit(colGroups(p, k))}) * ${u32Lit(k.rows)};`,
    `let nb = (groupIdx % ${u32Lit(colGroups(p, k))}) * ${u32Lit(k.cols)};`,
    // Past-the-end rows and columns compute on the last real one (in bounds) and are never stored.
    ...Array.from({ length: k.cols }, (_, j) => `let n${j} = min(nb + ${u32Lit(j)}, ${u32Lit(p.N - 1)});`),
    ...Array.from({ length: k.rows }, (_, r) => [`let ra${r} = min(mb + ${u32Lit(r)}, ${u32Lit(p.M - 1)}) * ${u32Lit(aRow)};`, `let za${r} = a[ra${r} + 1u];`]).flat(),
    // Scalars, not an array: dynamically indexed private arrays live in memory on lavapipe.
    ...Array.from({ length: k.rows }, (_, r) => Array.from({ length: k.cols }, (_, j) => `var acc${r}_${j} = 0.0;`)).flat(),
  ];
  if (k.unroll === 1) {
    // Whole chunks unrolled; the short last chunk, if any, through the masked loop on the lane the loop would give it.
    lines.push(`for (var c = lidx; c < ${u32Lit(full)}; c += ${u32Lit(WG)}) {`, ...indent(chunkBody(b, p, k, d4, true)), '}');
    if (full < chunks) lines.push(`if (lidx == ${u32Lit(full % WG)}) {`, `  let c = ${u32Lit(full)};`, ...indent(chunkBody(b, p, k, d4, false)), '}');
  } else {
    lines.push(`for (var c = lidx; c < ${u32Lit(chunks)}; c += ${u32Lit(WG)}) {`, ...indent(chunkBody(b, p, k, d4, false)), '}');
  }
  lines.push(...Array.from({ length: k.rows }, (_, r) => Array.from({ length: k.cols }, (_, j) => `partial[lidx * ${u32Lit(RC)} + ${u32Lit(r * k.cols + j)}] = acc${r}_${j};`)).flat(),
    'workgroupBarrier();');
  for (let half = WG / 2; half >= 1; half /= 2) {
    lines.push(`if (lidx < ${u32Lit(half)}) {`,
      `  for (var i = 0u; i < params.accs; i++) { partial[lidx * ${u32Lit(RC)} + i] += partial[(lidx + ${u32Lit(half)}) * ${u32Lit(RC)} + i]; }`,
      '}', 'workgroupBarrier();');
  }
  // One invocation per (row, column): the row's activation scale, bias, epilogue, store.
  lines.push(`if (lidx < ${u32Lit(RC)}) {`,
    `  let m = mb + lidx / ${u32Lit(k.cols)};`,
    `  let n = nb + lidx % ${u32Lit(k.cols)};`,
    `  if (m < ${u32Lit(p.M)} && n < ${u32Lit(p.N)}) {`,
    `    let r = bitcast<f32>(a[m * ${u32Lit(aRow)}]) * partial[lidx]${p.bias ? ' + bias[n]' : ''};`,
    `    out[m * ${u32Lit(p.N)} + n] = ${applyEpilogue(p.epilogue, 'r', b)};`,
    '  }', '}');
  return lines.join('\n');
}

export const matmulNBitsDot4Template: KernelTemplate<MatmulNBitsProblem, NBitsDot4Knobs> = {
  name: 'matmul-nbits-dot4',
  knobs: KNOBS,

  valid(p, k, dev) {
    const shape = dot4ProblemShape(p);
    if (shape) return shape;
    if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
    if (p.M > NBITS_DOT4_MAX_ROWS) return `dot4 gemv serves 1..${NBITS_DOT4_MAX_ROWS} rows, got M=${p.M} (matmul-nbits-dot4-gemm serves more)`;
    if (k.dot4 === 1 && !hasDot4(dev)) return 'device lacks the WGSL feature packed_4x8_integer_dot_product (use dot4=0)';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if (k.rows * k.cols > MAX_ACCUMULATORS) return `${k.rows}x${k.cols} accumulators exceed ${MAX_ACCUMULATORS} registers`;
    if (k.unroll === 1 && k.rows * k.cols > MAX_UNROLLED_ACCUMULATORS) return `unrolled chunks with ${k.rows}x${k.cols} accumulators compile too slowly`;
    if (k.unroll === 1 && p.K < CHUNK) return 'unroll needs a whole 32-code chunk';
    if (k.workgroupSize * k.rows * k.cols * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    if (k.rows > 1 && k.rows >= 2 * p.M) return `rows ${k.rows} is past the next power of two of M=${p.M}`;
    if (k.cols > 1 && k.cols >= 2 * p.N) return `cols ${k.cols} is past the next power of two of N=${p.N}`;
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'], uniforms: dot4Uniforms(k) });
    return b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: dot4Uniforms(k) };
  },

  defaults(p, dev) {
    // As the weight-only gemv: a few chunks per invocation; wide N shares activation quads over columns.
    // The quad loop: on lavapipe it runs as fast as the unrolled chunk (1x4096·4096, W2..W8) and
    // compiles in half the time.
    const chunks = ceilDiv(p.K, CHUNK);
    const workgroupSize = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, chunks / 2)))));
    const dot4 = hasDot4(dev) ? 1 : 0;
    const rows = Math.min(8, 2 ** Math.ceil(Math.log2(p.M)));
    for (const cols of p.N >= 1024 ? [4, 2, 1] : [2, 1]) {
      const k = { workgroupSize, rows, cols, dot4, unroll: 0 };
      if (matmulNBitsDot4Template.valid(p, k, dev) === true) return k;
    }
    return { workgroupSize: 32, rows: 1, cols: 1, dot4, unroll: 0 };
  },
};
