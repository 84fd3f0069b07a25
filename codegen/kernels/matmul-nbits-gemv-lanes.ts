// Weight-only quantized GEMV (M <= 8), output columns across lanes: lanes own neighbouring rows of W
// and walk K in lockstep, so A is common to all and (shareA) loaded as vec4s by 4 lanes, then broadcast:
// lavapipe pays a per-lane branchy load for every non-constant address. Per code a centred extract and
// one FMA; per group y += s·(Σa(q−c) − (z−c)·Σa). A block of 1/2/4 chunks is exactly `bits` u32/vec2/
// vec4 words per column, so loads scale with bits (vector blocks did not pay on lavapipe: registers).
// Dense layout, groups of whole 32-code chunks (whole blocks when chunks > 1) only.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { applyEpilogue, epilogueProblem } from '../wgsl/expr.ts';
import { CHUNK, nbitsInputs, nbitsInputTypes, nbitsKey, packedGroups, packedProblem, rowWords } from '../wgsl/packed.ts';
import { blockWordType, codeCentre, signedBlockLoads, signedCode } from '../wgsl/packed-signed.ts';
import { ceilDiv, dispatchProblem, f32Lit, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface NBitsGemvLanesKnobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** Columns per invocation (strided by workgroupSize, so lanes stay on neighbouring rows); they share A. */
  readonly cols: number;
  /** 1: A is read as vec4s shared across the subgroup by broadcast (needs 'subgroups' and K % 4 == 0). */
  readonly shareA: number;
  /** Chunks per block: the block's `bits` words load as u32 (1), vec2 (2) or vec4 (4); the block is unrolled. */
  readonly chunks: number;
}

const KNOBS: KnobSpace<NBitsGemvLanesKnobs> = { workgroupSize: [8, 16, 32, 64, 128], cols: [1, 2, 4, 8], shareA: [0, 1], chunks: [1, 2, 4] };
export const NBITS_GEMV_LANES_MAX_ROWS = 8;
/** Narrower problems leave most lanes idle (K is not split), so matmul-nbits-gemv serves them. */
export const NBITS_GEMV_LANES_MIN_N = 32;
/** Group accumulators (M x cols) past which registers spill and the unrolled chunk compiles slowly. */
const MAX_ACCUMULATORS = 8;

const columnsPerGroup = (k: NBitsGemvLanesKnobs): number => k.workgroupSize * k.cols;
const workgroups = (p: MatmulNBitsProblem, k: NBitsGemvLanesKnobs): number => ceilDiv(p.N, columnsPerGroup(k));

/** Loop bounds are uniforms: literal bounds let lavapipe's LLVM unroll every loop (seconds per shader). */
function lanesUniforms(p: MatmulNBitsProblem): Uniform[] {
  return [
    { name: 'groups', type: 'u32', value: packedGroups(p) },
    { name: 'chunksPerGroup', type: 'u32', value: p.group >= p.K ? Math.ceil(p.K / CHUNK) : p.group / CHUNK },
    { name: 'fullChunks', type: 'u32', value: Math.floor(p.K / CHUNK) },
    { name: 'tail', type: 'u32', value: p.K % CHUNK },
  ];
}

/** Statements binding `a<m>` to A[m, kb + i]: a plain load, or a broadcast of the lane that loaded it. */
function aOf(M: number, K: number, k: NBitsGemvLanesKnobs, i: number): string[] {
  const rows = Array.from({ length: M }, (_, m) => m);
  if (!k.shareA) return rows.map((m) => `let a${m} = a[${u32Lit(m * K)} + kb + ${u32Lit(i)}];`);
  return rows.map((m) => `let a${m} = subgroupBroadcast(av${m}_${i >> 4}.${'xyzw'[i & 3]}, ${u32Lit((i >> 2) & 3)});`);
}

function body(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsGemvLanesKnobs): string {
  const { M, K, N, bits } = p;
  const C = k.chunks;
  // u32 word `idx` of the words binding, whatever its vector width (tail only: dynamic component).
  const wordAt = (idx: string): string => (C === 1 ? `words[${idx}]` : `words[(${idx}) / ${u32Lit(C)}][(${idx}) % ${u32Lit(C)}]`);
  const G = packedGroups(p);
  const centre = f32Lit(codeCentre(bits));
  const rows = Array.from({ length: M }, (_, m) => m);
  const cols = Array.from({ length: k.cols }, (_, j) => j);
  const each = (f: (m: number, j: number) => string): string[] => rows.flatMap((m) => cols.map((j) => f(m, j)));
  const aAt = (idx: string): string => (k.shareA ? `a[(${idx}) >> 2u][(${idx}) & 3u]` : `a[${idx}]`);
  const lines = [
    // Lane within the subgroup, from a scan rather than a builtin the shader builder does not declare.
    ...(k.shareA ? ['let sgl = subgroupExclusiveAdd(1u) & 3u;'] : []),
    `if (groupIdx >= ${u32Lit(workgroups(p, k))}) { return; }`,
    // Past-the-end columns compute on the last real row (in bounds) and are never stored.
    ...cols.map((j) => `let n${j} = min(groupIdx * ${u32Lit(columnsPerGroup(k))} + lidx + ${u32Lit(j * k.workgroupSize)}, ${u32Lit(N - 1)});`),
    ...cols.map((j) => `let rb${j} = n${j} * ${u32Lit(rowWords(p))};`),
    // Scalars, not arrays: dynamically indexed private arrays live in memory on lavapipe.
    ...each((m, j) => `var y${m}_${j} = 0.0;`),
    'for (var g = 0u; g < params.groups; g++) {',
    ...each((m, j) => `  var d${m}_${j} = 0.0;`),
    ...rows.map((m) => `  var sa${m} = 0.0;`),
    '  let u0 = g * params.chunksPerGroup;',
    '  let u1 = min(u0 + params.chunksPerGroup, params.fullChunks);',
    // valid() makes u1 - u0 a whole number of blocks.
    `  for (var u = u0; u < u1; u += ${u32Lit(C)}) {`,
    `    let kb = u * ${u32Lit(CHUNK)};`,
    ...(k.shareA ? rows.flatMap((m) => Array.from({ length: (C * CHUNK) / 16 }, (_, h) => `    let av${m}_${h} = a[(${u32Lit(m * K)} + kb) / 4u + ${u32Lit(4 * h)} + sgl];`)) : []),
  ];
  const blocks = cols.map((j) => signedBlockLoads(bits, C, `w${j}_`, `rb${j} / ${u32Lit(C)} + (u / ${u32Lit(C)}) * ${u32Lit(bits)}`));
  lines.push(...blocks.flatMap((bl) => bl.loads.map((l) => `    ${l}`)));
  for (let i = 0; i < C * CHUNK; i++) {
    const chunkBase = (i >> 5) * bits;
    lines.push('    {', ...aOf(M, K, k, i).map((l) => `      ${l}`), ...rows.map((m) => `      sa${m} += a${m};`));
    blocks.forEach((bl, j) => lines.push(`      let q${j} = f32(${signedCode(bits, (w) => bl.word(chunkBase + w), i & 31)});`));
    lines.push(...each((m, j) => `      d${m}_${j} = fma(a${m}, q${j}, d${m}_${j});`), '    }');
  }
  lines.push('  }');
  if (K % CHUNK > 0) {
    // The short last chunk belongs to the last group: codes one at a time (one or two words each).
    lines.push(`  if (g == ${u32Lit(G - 1)}) {`,
      '    for (var i = 0u; i < params.tail; i++) {',
      `      let kk = ${u32Lit(K - (K % CHUNK))} + i;`,
      `      let bit = kk * ${u32Lit(bits)};`,
      '      let sh = bit & 31u;',
      ...rows.flatMap((m) => [`      let a${m} = ${aAt(`${u32Lit(m * K)} + kk`)};`, `      sa${m} += a${m};`]),
      ...cols.flatMap((j) => [
        `      let wi${j} = rb${j} + (bit >> 5u);`,
        `      var c${j} = ${wordAt(`wi${j}`)} >> sh;`,
        // The second word is read only when the code straddles, so it never leaves the row.
        `      if (sh + ${u32Lit(bits)} > 32u) { c${j} = c${j} | (${wordAt(`wi${j} + 1u`)} << (32u - sh)); }`,
        `      let q${j} = f32(c${j} & ${u32Lit(2 ** bits - 1)}) - ${centre};`,
      ]),
      ...each((m, j) => `      d${m}_${j} = fma(a${m}, q${j}, d${m}_${j});`),
      '    }', '  }');
  }
  lines.push(...cols.flatMap((j) => [
    `  let gi${j} = n${j} * ${u32Lit(G)} + g;`,
    `  let s${j} = scales[gi${j}];`,
    `  let z${j} = zeros[gi${j}] - ${centre};`,
  ]),
  ...each((m, j) => `  y${m}_${j} = fma(s${j}, d${m}_${j} - z${j} * sa${m}, y${m}_${j});`),
  '}');
  for (const j of cols) {
    lines.push(`if (groupIdx * ${u32Lit(columnsPerGroup(k))} + lidx + ${u32Lit(j * k.workgroupSize)} < ${u32Lit(N)}) {`);
    for (const m of rows) {
      lines.push(`  let r${m}_${j} = y${m}_${j}${p.bias ? ` + bias[n${j}]` : ''};`,
        `  out[${u32Lit(m * N)} + n${j}] = ${applyEpilogue(p.epilogue, `r${m}_${j}`, b)};`);
    }
    lines.push('}');
  }
  return lines.join('\n');
}

export const matmulNBitsGemvLanesTemplate: KernelTemplate<MatmulNBitsProblem, NBitsGemvLanesKnobs> = {
  name: 'matmul-nbits-gemv-lanes',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.actBits) return 'quantized activations are served by the WxAy templates';
    if (p.M < 1 || p.M > NBITS_GEMV_LANES_MAX_ROWS) return `nbits lanes gemv serves 1..${NBITS_GEMV_LANES_MAX_ROWS} rows, got M=${p.M}`;
    if (p.K < 1) return 'empty matmul';
    if (p.N < NBITS_GEMV_LANES_MIN_N) return `N=${p.N} < ${NBITS_GEMV_LANES_MIN_N} leaves lanes idle (matmul-nbits-gemv splits K)`;
    if (p.layout !== 'dense') return 'bit planes are served by matmul-nbits-gemv';
    if (p.group < p.K && p.group % CHUNK !== 0) return `group ${p.group} splits ${CHUNK}-code chunks (matmul-nbits-gemv serves it)`;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if (p.M * k.cols > MAX_ACCUMULATORS) return `${p.M}x${k.cols} accumulators exceed ${MAX_ACCUMULATORS}`;
    if (k.cols > 1 && (k.cols - 1) * k.workgroupSize >= p.N) return `cols ${k.cols} leaves a column slot empty for N=${p.N}`;
    if (k.shareA && !dev.features.has('subgroups')) return "shareA needs the 'subgroups' feature";
    if (k.shareA && p.K % 4 !== 0) return `shareA reads A as vec4 rows; K=${p.K} is not a multiple of 4`;
    if (k.chunks > 1) {
      // The block is unrolled: code size (and lavapipe's LLVM compile time) grows with M·cols·chunks.
      if (p.M * k.cols * k.chunks > MAX_ACCUMULATORS) return `${p.M}x${k.cols} accumulators over ${k.chunks} unrolled chunks exceed ${MAX_ACCUMULATORS}`;
      // Blocks must tile every group's full chunks and start on vector boundaries.
      if (Math.floor(p.K / CHUNK) % k.chunks !== 0) return `${Math.floor(p.K / CHUNK)} full chunks are not whole blocks of ${k.chunks}`;
      if (p.group < p.K && p.group % (k.chunks * CHUNK) !== 0) return `group ${p.group} splits blocks of ${k.chunks} chunks`;
      if (rowWords(p) % k.chunks !== 0) return `rows of ${rowWords(p)} words are not whole vec${k.chunks}s`;
    }
    if (p.M * p.K > 0xffffffff || p.M * p.N > 0xffffffff) return 'operands overflow u32 indexing';
    return packedProblem(p) ?? epilogueProblem(p.epilogue) ?? dispatchProblem(workgroups(p, k)) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const inputTypes = nbitsInputTypes(p).map((t, i) => (i === 0 && k.shareA ? 'vec4<f32>' : i === 1 ? blockWordType(k.chunks) : t));
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes, outputs: ['out'], uniforms: lanesUniforms(p) });
    return (k.shareA ? 'enable subgroups;\n\n' : '') + b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(workgroups(p, k)), uniforms: lanesUniforms(p) };
  },

  defaults(p, dev) {
    // Wide N: 64 lanes of 4 columns; narrow N: small workgroups so lanes are not wasted.
    const workgroupSize = p.N >= 1024 ? 64 : p.N >= 256 ? 16 : 8;
    for (const cols of [4, 2, 1]) {
      for (const shareA of [1, 0]) {
        const k = { workgroupSize, cols, shareA, chunks: 1 };
        if (matmulNBitsGemvLanesTemplate.valid(p, k, dev) === true) return k;
      }
    }
    return { workgroupSize: 8, cols: 1, shareA: 0, chunks: 1 };
  },
};
