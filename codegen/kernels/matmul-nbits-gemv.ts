// Weight-only quantized GEMV (M <= 8): bandwidth-bound, so packed words are read once. Invocations
// split K in 32-code chunks for `cols` columns; widths dividing 32 and planes unpack whole loaded
// words, other widths unroll a chunk's 32 codes with literal shifts (knob) or use the random-
// access accessor. A is shared by columns, scale/zero read once per chunk, partials tree-reduced.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { CHUNK, denseChunkCode, denseChunkLoads, denseWordCode, nbitsInputs, nbitsInputTypes, nbitsKey, packedCodeFn, packedGroups, packedProblem, planeCode, planeWordLoads, rowWords, wordAligned } from '../wgsl/packed.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface NBitsGemvKnobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** Output columns (rows of W) per workgroup; A loads are shared among them. */
  readonly cols: number;
  /** 1: straddling dense widths unroll each chunk's 32 codes (literal shifts); 0: a code loop via the accessor. */
  readonly unroll: number;
}

const KNOBS: KnobSpace<NBitsGemvKnobs> = { workgroupSize: [32, 64, 128, 256], cols: [1, 2, 4, 8], unroll: [0, 1] };
/** Accumulators past which an unrolled chunk (32 x (M + cols*(M+2)) statements) costs lavapipe's LLVM seconds. */
const MAX_UNROLLED_ACCUMULATORS = 4;
const straddles = (p: MatmulNBitsProblem): boolean => p.layout === 'dense' && !wordAligned(p.bits);
export const NBITS_GEMV_MAX_ROWS = 8;
/** Accumulators per invocation beyond which registers spill. */
const MAX_ACCUMULATORS = 32;

const groups = (p: MatmulNBitsProblem, k: NBitsGemvKnobs): number => ceilDiv(p.N, k.cols);
/** A chunk lies inside one group when groups are whole chunks, or there is one group per row. */
const chunkInGroup = (p: MatmulNBitsProblem): boolean => p.group % CHUNK === 0 || p.group >= p.K;

/**
 * Code-loop trip counts are uniforms, not literals: with literal bounds lavapipe's LLVM unrolled
 * every loop (the reduction's too) and took 5–45 s per shader, against ~1 s with uniform bounds.
 */
function gemvUniforms(p: MatmulNBitsProblem, k: NBitsGemvKnobs): Uniform[] {
  return [
    { name: 'chunk', type: 'u32', value: CHUNK },
    { name: 'perWord', type: 'u32', value: wordAligned(p.bits) ? CHUNK / p.bits : 1 },
    { name: 'tail', type: 'u32', value: p.K % CHUNK },
    { name: 'accs', type: 'u32', value: p.M * k.cols },
  ];
}

/** Statements accumulating chunk `c` (first code index `kb`; `codes` codes, `bound` its uniform) into acc<m>_<j>. */
function chunkBody(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsGemvKnobs, c: string, kb: string, codes: number, bound: string): string[] {
  const G = packedGroups(p);
  const out: string[] = [];
  for (let j = 0; j < k.cols; j++) {
    // Past-the-end columns compute on the last real row (in bounds) and are never stored.
    out.push(`let n${j} = min(n0 + ${u32Lit(j)}, ${u32Lit(p.N - 1)});`);
    if (chunkInGroup(p)) {
      out.push(`let gi${j} = n${j} * ${u32Lit(G)} + ${kb} / ${u32Lit(p.group)};`,
        `let sc${j} = scales[gi${j}];`, `let off${j} = -zeros[gi${j}] * sc${j};`);
    }
  }
  /** FMAs of code index `kk` whose code for column j is `code(j)`. */
  const step = (kk: string, code: (j: number) => string): string[] => {
    const lines = [`let kk = ${kk};`];
    for (let m = 0; m < p.M; m++) lines.push(`let a${m} = a[${u32Lit(m * p.K)} + kk];`);
    for (let j = 0; j < k.cols; j++) {
      const q = `f32(${code(j)})`;
      if (chunkInGroup(p)) lines.push(`let wv${j} = fma(${q}, sc${j}, off${j});`);
      else lines.push(`let gi${j} = n${j} * ${u32Lit(G)} + kk / ${u32Lit(p.group)};`, `let wv${j} = (${q} - zeros[gi${j}]) * scales[gi${j}];`);
      for (let m = 0; m < p.M; m++) lines.push(`acc${m}_${j} = fma(a${m}, wv${j}, acc${m}_${j});`);
    }
    return lines.map((l) => `  ${l}`);
  };
  if (p.layout === 'planes') {
    // One word per plane holds bit j of all 32 codes: load them once, rebuild codes bit by bit.
    for (let j = 0; j < k.cols; j++) out.push(planeWordLoads(p, `w${j}_`, `n${j}`, c));
    out.push(`for (var i = 0u; i < ${bound}; i++) {`, ...step(`${kb} + i`, (j) => planeCode(p, `w${j}_`, 'i')), '}');
  } else if (wordAligned(p.bits) && codes === CHUNK) {
    // Whole words: the chunk is `bits` words of 32 / bits codes each, each word loaded once.
    const per = CHUNK / p.bits;
    for (let j = 0; j < k.cols; j++) out.push(`let rb${j} = n${j} * ${u32Lit(rowWords(p))} + ${c} * ${u32Lit(p.bits)};`);
    out.push(`for (var wj = 0u; wj < ${u32Lit(p.bits)}; wj++) {`);
    for (let j = 0; j < k.cols; j++) out.push(`  let wd${j} = words[rb${j} + wj];`);
    out.push('  for (var i = 0u; i < params.perWord; i++) {', ...step(`${kb} + wj * ${u32Lit(per)} + i`, (j) => denseWordCode(p, `wd${j}`, 'i')).map((l) => `  ${l}`), '  }', '}');
  } else if (codes === CHUNK && k.unroll === 1) {
    // Straddling widths: 32 codes are exactly `bits` words; unrolled, every shift is a literal.
    for (let j = 0; j < k.cols; j++) out.push(denseChunkLoads(p, `w${j}_`, `n${j}`, c));
    for (let i = 0; i < CHUNK; i++) out.push('{', ...step(`${kb} + ${u32Lit(i)}`, (j) => denseChunkCode(p, `w${j}_`, i)), '}');
  } else {
    // The short tail, or straddling widths not unrolled: the random-access accessor (one or two words a code).
    const code = packedCodeFn(b, p);
    out.push(`for (var i = 0u; i < ${bound}; i++) {`, ...step(`${kb} + i`, (j) => `${code}(n${j}, kk)`), '}');
  }
  return out;
}

function body(b: ShaderBuilder, p: MatmulNBitsProblem, k: NBitsGemvKnobs): string {
  const WG = k.workgroupSize;
  const MC = p.M * k.cols;
  const full = Math.floor(p.K / CHUNK);
  const tail = p.K - full * CHUNK;
  b.decl(`var<workgroup> partial: array<f32, ${WG * MC}>;`);
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let n0 = groupIdx * ${u32Lit(k.cols)};`,
    // Scalars, not an array: dynamically indexed private arrays live in memory on lavapipe.
    ...Array.from({ length: p.M }, (_, m) => Array.from({ length: k.cols }, (_, j) => `var acc${m}_${j} = 0.0;`)).flat(),
    `for (var c = lidx; c < ${u32Lit(full)}; c += ${u32Lit(WG)}) {`,
    `  let kb = c * ${u32Lit(CHUNK)};`,
    ...chunkBody(b, p, k, 'c', 'kb', CHUNK, 'params.chunk').map((l) => `  ${l}`),
    '}',
  ];
  if (tail > 0) {
    // The short last chunk: constant code and word counts, run by the lane the loop would give it.
    lines.push(`if (lidx == ${u32Lit(full % WG)}) {`, ...chunkBody(b, p, k, u32Lit(full), u32Lit(full * CHUNK), tail, 'params.tail').map((l) => `  ${l}`), '}');
  }
  lines.push(...Array.from({ length: p.M }, (_, m) => Array.from({ length: k.cols }, (_, j) => `partial[lidx * ${u32Lit(MC)} + ${u32Lit(m * k.cols + j)}] = acc${m}_${j};`)).flat(),
    'workgroupBarrier();');
  for (let half = WG / 2; half >= 1; half /= 2) {
    lines.push(`if (lidx < ${u32Lit(half)}) {`,
      `  for (var i = 0u; i < params.accs; i++) { partial[lidx * ${u32Lit(MC)} + i] += partial[(lidx + ${u32Lit(half)}) * ${u32Lit(MC)} + i]; }`,
      '}', 'workgroupBarrier();');
  }
  // One invocation per (m, column) finishes: bias, epilogue, store.
  lines.push(`if (lidx < ${u32Lit(MC)}) {`,
    `  let m = lidx / ${u32Lit(k.cols)};`,
    `  let n = n0 + lidx % ${u32Lit(k.cols)};`,
    `  if (n < ${u32Lit(p.N)}) {`,
    `    let r = partial[lidx]${p.bias ? ' + bias[n]' : ''};`,
    `    out[m * ${u32Lit(p.N)} + n] = ${applyEpilogue(p.epilogue, 'r', b)};`,
    '  }', '}');
  return lines.join('\n');
}

export const matmulNBitsGemvTemplate: KernelTemplate<MatmulNBitsProblem, NBitsGemvKnobs> = {
  name: 'matmul-nbits-gemv',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.actBits) return 'quantized activations are served by the WxAy templates';
    if (p.M < 1 || p.M > NBITS_GEMV_MAX_ROWS) return `nbits gemv serves 1..${NBITS_GEMV_MAX_ROWS} rows, got M=${p.M}`;
    if (p.N < 1 || p.K < 1) return 'empty matmul';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if (p.M * k.cols > MAX_ACCUMULATORS) return `${p.M}x${k.cols} accumulators exceed ${MAX_ACCUMULATORS} registers`;
    if (k.workgroupSize * p.M * k.cols * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums exceed workgroup storage';
    if (k.cols > 1 && k.cols > p.N) return `cols ${k.cols} exceeds N=${p.N}`;
    if (k.unroll === 1 && !straddles(p)) return 'unroll only applies to dense widths that do not divide 32';
    if (k.unroll === 1 && p.M * k.cols > MAX_UNROLLED_ACCUMULATORS) return `unrolled chunks with ${p.M}x${k.cols} accumulators compile too slowly`;
    if (p.M * p.K > 0xffffffff || p.M * p.N > 0xffffffff) return 'operands overflow u32 indexing';
    return packedProblem(p) ?? epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'], uniforms: gemvUniforms(p, k) });
    return b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: gemvUniforms(p, k) };
  },

  defaults(p, dev) {
    // Enough invocations to give each a few chunks of a long row; wide N shares A over columns.
    const chunks = ceilDiv(p.K, CHUNK);
    const workgroupSize = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, chunks / 2)))));
    for (const cols of p.N >= 1024 ? [4, 2, 1] : [2, 1]) {
      for (const unroll of [1, 0]) {
        const k = { workgroupSize, cols, unroll };
        if (matmulNBitsGemvTemplate.valid(p, k, dev) === true) return k;
      }
    }
    return { workgroupSize: 32, cols: 1, unroll: 0 };
  },
};
