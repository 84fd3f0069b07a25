// WxAy GEMM on 8-bit dot products: per 32-code chunk a workgroup stages its tile's activation and
// weight codes as byte quads in workgroup memory, with each staged row's code sum, then every lane
// runs micro x micro dot4 accumulators; zero points are fixed per chunk as in matmul-nbits-dot4.
// Dense codes only; groups must be multiples of 32 or per-channel (matmul-nbits-dot4's shape rules).

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { dot4Spelling, hasDot4, QUAD, quadBytesFn, quadFieldFn } from '../wgsl/dot4.ts';
import { applyEpilogue } from '../wgsl/expr.ts';
import { CHUNK, nbitsInputs, nbitsInputTypes, nbitsKey, packedGroups, rowWords } from '../wgsl/packed.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { actRowWords } from '../../src/quant/act.ts';
import { dot4ProblemShape, MAX_INT_ZERO } from './matmul-nbits-dot4.ts';

export interface NBitsDot4GemmKnobs {
  readonly [k: string]: number;
  /** The workgroup is threads x threads lanes. */
  readonly threads: number;
  /** Each lane owns micro x micro outputs; the tile is (threads * micro)^2. */
  readonly micro: number;
  /** 1: dot4U8Packed (needs the WGSL feature); 0: integer multiply-adds on unpacked lanes. */
  readonly dot4: number;
}

const KNOBS: KnobSpace<NBitsDot4GemmKnobs> = { threads: [8, 16], micro: [1, 2, 4], dot4: [1, 0] };
const QUADS = CHUNK / QUAD;

const tile = (k: NBitsDot4GemmKnobs): number => k.threads * k.micro;
const tilesN = (p: MatmulNBitsProblem, k: NBitsDot4GemmKnobs): number => ceilDiv(p.N, tile(k));
const groups = (p: MatmulNBitsProblem, k: NBitsDot4GemmKnobs): number => ceilDiv(p.M, tile(k)) * tilesN(p, k);

/** Loop trip counts are uniforms so lavapipe's LLVM does not unroll them (see matmul-nbits-gemv). */
function gemmUniforms(): Uniform[] {
  return [{ name: 'quads', type: 'u32', value: QUADS }];
}

function body(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsDot4GemmKnobs): string {
  const ab = p.actBits ?? 0;
  const T = tile(k);
  const u = k.micro;
  const L = k.threads * k.threads;
  const G = packedGroups(p);
  const aRow = actRowWords(p.K, ab, 'dense');
  const d4 = dot4Spelling(b, k.dot4 === 1);
  const wField = quadFieldFn(b, 'quad_field_w', 'words', p.bits);
  const aField = quadFieldFn(b, 'quad_field_a', 'a', ab);
  // Rows 0..T-1 of the staging arrays are the tile's activation rows, T..2T-1 its weight rows.
  b.decl(`var<workgroup> quads: array<u32, ${2 * T * QUADS}>;`);
  b.decl(`var<workgroup> sums: array<u32, ${2 * T}>;`);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let mt = (groupIdx / ${u32Lit(tilesN(p, k))}) * ${u32Lit(T)};`,
    `let nt = (groupIdx % ${u32Lit(tilesN(p, k))}) * ${u32Lit(T)};`,
    `let ty = lidx / ${u32Lit(k.threads)};`,
    `let tx = lidx % ${u32Lit(k.threads)};`,
    // Lane rows and columns are strided by `threads`, so staged reads spread over banks.
    // Past-the-end ones compute on the last real row/column (in bounds) and are never stored.
    ...Array.from({ length: u }, (_, i) => [`let m${i} = min(mt + ty + ${u32Lit(i * k.threads)}, ${u32Lit(p.M - 1)});`, `let za${i} = a[m${i} * ${u32Lit(aRow)} + 1u];`]).flat(),
    ...Array.from({ length: u }, (_, j) => `let n${j} = min(nt + tx + ${u32Lit(j * k.threads)}, ${u32Lit(p.N - 1)});`),
    ...Array.from({ length: u * u }, (_, i) => `var acc${Math.floor(i / u)}_${i % u} = 0.0;`),
    `for (var c = 0u; c < ${u32Lit(ceilDiv(p.K, CHUNK))}; c++) {`,
    `  let nc = min(${u32Lit(CHUNK)}, ${u32Lit(p.K)} - c * ${u32Lit(CHUNK)});`,
    // Stage: one lane per staged row expands its chunk's 8 quads (lanes past K masked) and sums them.
    `  for (var s = lidx; s < ${u32Lit(2 * T)}; s += ${u32Lit(L)}) {`,
    `    let isA = s < ${u32Lit(T)};`,
    `    let row = select(min(nt + s - ${u32Lit(T)}, ${u32Lit(p.N - 1)}), min(mt + s, ${u32Lit(p.M - 1)}), isA);`,
    `    let base = select(row * ${u32Lit(rowWords(p))} + c * ${u32Lit(p.bits)}, row * ${u32Lit(aRow)} + 2u + c * ${u32Lit(ab)}, isA);`,
    '    var sum = 0u;',
    '    for (var q = 0u; q < params.quads; q++) {',
    `      let live = min(nc - min(nc, q * ${u32Lit(QUAD)}), ${u32Lit(QUAD)});`,
    '      let lanes = select((1u << (live * 8u)) - 1u, 0xffffffffu, live == 4u);',
    `      let abit = q * ${u32Lit(QUAD * ab)};`,
    `      let wbit = q * ${u32Lit(QUAD * p.bits)};`,
    '      var v = 0u;',
    `      if (isA) { v = ${quadBytesFn(b, ab)}(${aField}(base + (abit >> 5u), abit & 31u)); } else { v = ${quadBytesFn(b, p.bits)}(${wField}(base + (wbit >> 5u), wbit & 31u)); }`,
    '      v = v & lanes;',
    `      quads[s * ${u32Lit(QUADS)} + q] = v;`,
    `      sum += ${d4.sum('v')};`,
    '    }',
    '    sums[s] = sum;',
    '  }',
    '  workgroupBarrier();',
    ...Array.from({ length: u * u }, (_, i) => `  var d${Math.floor(i / u)}_${i % u} = 0u;`),
    '  for (var q = 0u; q < params.quads; q++) {',
    ...Array.from({ length: u }, (_, i) => `    let aq${i} = quads[(ty + ${u32Lit(i * k.threads)}) * ${u32Lit(QUADS)} + q];`),
    ...Array.from({ length: u }, (_, j) => `    let wq${j} = quads[(${u32Lit(T)} + tx + ${u32Lit(j * k.threads)}) * ${u32Lit(QUADS)} + q];`),
    ...Array.from({ length: u * u }, (_, i) => `    d${Math.floor(i / u)}_${i % u} += ${d4.dot(`aq${Math.floor(i / u)}`, `wq${i % u}`)};`),
    '  }',
  ];
  for (let j = 0; j < u; j++) {
    lines.push(G === 1 ? `  let gi${j} = n${j};` : `  let gi${j} = n${j} * ${u32Lit(G)} + c / ${u32Lit(p.group / CHUNK)};`,
      `  let sw${j} = scales[gi${j}];`, `  let zw${j} = zeros[gi${j}];`,
      `  let zi${j} = bitcast<u32>(i32(clamp(floor(zw${j}), ${-MAX_INT_ZERO}.0, ${MAX_INT_ZERO}.0)));`,
      `  let zf${j} = zw${j} - f32(bitcast<i32>(zi${j}));`,
      `  let swsum${j} = sums[${u32Lit(T)} + tx + ${u32Lit(j * k.threads)}];`);
  }
  for (let i = 0; i < u; i++) {
    lines.push(`  let sasum${i} = sums[ty + ${u32Lit(i * k.threads)}];`, `  let nza${i} = nc * za${i};`, `  let sac${i} = f32(bitcast<i32>(sasum${i} - nza${i}));`);
    for (let j = 0; j < u; j++) {
      // E = sum (qa - za)(qw - zi), exact (see matmul-nbits-dot4); the fractional zero in f32.
      lines.push(`  let e${i}_${j} = d${i}_${j} - za${i} * swsum${j} - zi${j} * sasum${i} + nza${i} * zi${j};`,
        `  acc${i}_${j} = fma(sw${j}, f32(bitcast<i32>(e${i}_${j})) - zf${j} * sac${i}, acc${i}_${j});`);
    }
  }
  lines.push('  workgroupBarrier();', '}');
  for (let i = 0; i < u; i++) {
    for (let j = 0; j < u; j++) {
      lines.push('{', `  let m = mt + ty + ${u32Lit(i * k.threads)};`, `  let n = nt + tx + ${u32Lit(j * k.threads)};`,
        `  if (m < ${u32Lit(p.M)} && n < ${u32Lit(p.N)}) {`,
        `    let r = bitcast<f32>(a[m * ${u32Lit(aRow)}]) * acc${i}_${j}${p.bias ? ' + bias[n]' : ''};`,
        `    out[m * ${u32Lit(p.N)} + n] = ${applyEpilogue(p.epilogue, 'r', b)};`, '  }', '}');
    }
  }
  return lines.join('\n');
}

export const matmulNBitsDot4GemmTemplate: KernelTemplate<MatmulNBitsProblem, NBitsDot4GemmKnobs> = {
  name: 'matmul-nbits-dot4-gemm',
  knobs: KNOBS,

  valid(p, k, dev) {
    const shape = dot4ProblemShape(p);
    if (shape) return shape;
    if (p.M < 1 || p.N < 1 || p.K < 1) return 'empty matmul';
    if (k.dot4 === 1 && !hasDot4(dev)) return 'device lacks the WGSL feature packed_4x8_integer_dot_product (use dot4=0)';
    const L = k.threads * k.threads;
    if (L > dev.limits.maxComputeInvocationsPerWorkgroup || k.threads > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if ((2 * tile(k) * (QUADS + 1)) * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'staged quads exceed workgroup storage';
    if (k.micro > 1 && tile(k) >= 2 * Math.max(p.M, p.N)) return `tile ${tile(k)} is past twice max(M, N)`;
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'], uniforms: gemmUniforms() });
    return b.build([k.threads * k.threads, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: gemmUniforms() };
  },

  defaults(p, dev) {
    const dot4 = hasDot4(dev) ? 1 : 0;
    // 8x8 lanes of 4x4 outputs were fastest on an H200 at 8, 64 and 256 x 4096·4096 (W4A8, W8A8);
    // smaller problems keep more workgroups.
    const micro = Math.min(p.M, p.N) >= 32 ? 4 : Math.min(p.M, p.N) >= 16 ? 2 : 1;
    for (const threads of [8, 16]) {
      const k = { threads, micro, dot4 };
      if (matmulNBitsDot4GemmTemplate.valid(p, k, dev) === true) return k;
    }
    return { threads: 8, micro: 1, dot4 };
  },
};
