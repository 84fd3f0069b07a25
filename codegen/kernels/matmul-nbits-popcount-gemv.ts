// WxAy bit-plane popcount GEMV (M <= 8; ABQ-LLM style): per group run, D = Σ_ij 2^(i+j) popcount(A_i & W_j)
// exactly in integers, folded with the f32 scale (popcount.ts); Σqa per (row, group) is a shared table.
// Bit-stacking: a column's (weight plane × K word) work is spread over WG / cols lanes — `planeSplit`
// lanes share each word's planes — so one token fills the workgroup; partials are tree-reduced.
// Needs 'planes' activations and weights; any group (word-unaligned groups are masked per segment).

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { applyEpilogue, epilogueProblem } from '../wgsl/expr.ts';
import { nbitsInputs, nbitsInputTypes, nbitsKey, packedGroups } from '../wgsl/packed.ts';
import { actPlaneWord, actRowStride, groupIndex, kWords, popcountProblem, walkWord, weightPlaneWord } from '../wgsl/popcount.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface PopcountGemvKnobs {
  readonly [k: string]: number;
  readonly workgroupSize: number;
  /** Output columns per workgroup (each gets workgroupSize / cols lanes). */
  readonly cols: number;
  /** Lanes sharing one K word, each taking every planeSplit-th weight plane (bit-stacking). */
  readonly planeSplit: number;
  /** Consecutive K words per lane before striding on (1: adjacent lanes read adjacent words). */
  readonly span: number;
}

const KNOBS: KnobSpace<PopcountGemvKnobs> = { workgroupSize: [32, 64, 128, 256], cols: [1, 2, 4, 8], planeSplit: [1, 2, 4, 8], span: [1, 2, 4, 8] };
export const POPCOUNT_GEMV_MAX_ROWS = 8;
/** Activation plane words (rows x planes) held in registers per K word, beyond which planes are looped. */
const UNROLLED_PLANE_WORDS = 16;
/**
 * Σqa per (row, group) does not depend on the column, so a workgroup computes it once into a
 * table: that saves QA popcounts per K word and column (half the work at W1). Past this many
 * rows x groups (u32 words of workgroup memory) the gemv declines and the gemm serves.
 */
const SA_TABLE_WORDS = 3072;

const groups = (p: MatmulNBitsProblem, k: PopcountGemvKnobs): number => ceilDiv(p.N, k.cols);
const rowsOf = (p: MatmulNBitsProblem): number[] => Array.from({ length: p.M }, (_, m) => m);

/** Loop trip counts as uniforms: literal bounds make lavapipe's LLVM unroll (seconds per shader). */
function uniforms(p: MatmulNBitsProblem, k: PopcountGemvKnobs): Uniform[] {
  return [
    { name: 'kw', type: 'u32', value: kWords(p) },
    { name: 'runs', type: 'u32', value: ceilDiv(kWords(p), k.span) },
    { name: 'qa', type: 'u32', value: p.actBits ?? 0 },
    { name: 'rows', type: 'u32', value: p.M },
  ];
}

function body(b: ShaderBuilder, p: MatmulNBitsProblem, k: PopcountGemvKnobs): string {
  const WG = k.workgroupSize;
  const TPC = WG / k.cols;
  const WT = TPC / k.planeSplit;
  const M = p.M;
  const QA = p.actBits as number;
  const ms = rowsOf(p);
  const G = packedGroups(p);
  b.decl(`var<workgroup> partial: array<f32, ${WG * M}>;`);
  b.decl(`var<workgroup> sag: array<atomic<u32>, ${M * G}>;`);
  // Σ(qa - za)(qw - zw) = (D - za·Σqw) - zw·(Σqa - n·za): runs fold the first bracket; the
  // second comes from the shared Σqa table once per (column, group) after the walk.
  const flush = [
    `let sc = scales[${groupIndex(p, 'n')}];`,
    ...ms.map((m) => `acc${m} += sc * f32(bitcast<i32>(d${m} - za${m} * sw));`),
    ...ms.map((m) => `d${m} = 0u;`),
    'sw = 0u;',
  ];
  const pc = (x: string, sh: number): string => (sh ? `(countOneBits(${x}) << ${u32Lit(sh)})` : `countOneBits(${x})`);
  // Few rows: every activation plane word lives in a register for the whole word. Many: planes
  // are re-read per weight plane in a loop, since M x QA unrolled popcounts took lavapipe's LLVM
  // ~18 s to compile at M = 8, W8A8 (against ~1 s).
  const unrolled = M * QA <= UNROLLED_PLANE_WORDS;
  const aWord = (m: number, i: string): string => `(${actPlaneWord(p, u32Lit(m), i, 'c')} & msk)`;
  const word = unrolled ? [
    ...ms.flatMap((m) => Array.from({ length: QA }, (_, i) => `let x${m}_${i} = ${aWord(m, u32Lit(i))};`)),
    `for (var j = s; j < ${u32Lit(p.bits)}; j += ${u32Lit(k.planeSplit)}) {`,
    `  let w = ${weightPlaneWord(p, 'n', 'j', 'c')} & msk;`,
    '  sw += countOneBits(w) << j;',
    ...ms.map((m) => `  d${m} += (${Array.from({ length: QA }, (_, i) => pc(`x${m}_${i} & w`, i)).join(' + ')}) << j;`),
    '}',
  ] : [
    `for (var j = s; j < ${u32Lit(p.bits)}; j += ${u32Lit(k.planeSplit)}) {`,
    `  let w = ${weightPlaneWord(p, 'n', 'j', 'c')} & msk;`,
    '  sw += countOneBits(w) << j;',
    '  for (var i = 0u; i < params.qa; i++) {',
    ...ms.map((m) => `    d${m} += countOneBits(${aWord(m, 'i')} & w) << (i + j);`),
    '  }',
    '}',
  ];
  // The Σqa table: lanes stride over K words and add each group segment's Σqa atomically.
  const table = [
    `for (var e = lidx; e < ${u32Lit(M * G)}; e += ${u32Lit(WG)}) { atomicStore(&sag[e], 0u); }`,
    'workgroupBarrier();',
    '{',
    '  var cur = 0u;',
    ...ms.map((m) => `  var q${m} = 0u;`),
    `  for (var c = lidx; c < params.kw; c += ${u32Lit(WG)}) {`,
    ...walkWord(p, {
      flush: ms.map((m) => `atomicAdd(&sag[${u32Lit(m * G)} + cur], q${m}); q${m} = 0u;`),
      word: ['for (var i = 0u; i < params.qa; i++) {', ...ms.map((m) => `  q${m} += countOneBits(${aWord(m, 'i')}) << i;`), '}'],
    }).map((l) => `    ${l}`),
    '  }',
    ...ms.map((m) => `  atomicAdd(&sag[${u32Lit(m * G)} + cur], q${m});`),
    '}',
    'workgroupBarrier();',
  ];
  const zeroPointTerm = [
    `for (var g = r; g < ${u32Lit(G)}; g += ${u32Lit(TPC)}) {`,
    `  let gz = n * ${u32Lit(G)} + g;`,
    '  let scz = scales[gz] * zeros[gz];',
    `  let cg = min(${u32Lit(p.K)}, (g + 1u) * ${u32Lit(p.group)}) - g * ${u32Lit(p.group)};`,
    ...ms.map((m) => `  acc${m} -= scz * f32(bitcast<i32>(atomicLoad(&sag[${u32Lit(m * G)} + g]) - cg * za${m}));`),
    '}',
  ];
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let col = lidx / ${u32Lit(TPC)};`,
    `let r = lidx % ${u32Lit(TPC)};`,
    `let s = r % ${u32Lit(k.planeSplit)};`,
    `let wt = r / ${u32Lit(k.planeSplit)};`,
    // Past-the-end columns compute on the last real one (in bounds) and are never stored.
    `let n = min(groupIdx * ${u32Lit(k.cols)} + col, ${u32Lit(p.N - 1)});`,
    ...ms.map((m) => `let za${m} = a[${u32Lit(m * actRowStride(p) + 1)}];`),
    ...ms.flatMap((m) => [`var acc${m} = 0.0;`, `var d${m} = 0u;`]),
    'var sw = 0u;',
    'var cur = 0u;',
    ...table,
    `for (var run = wt; run < params.runs; run += ${u32Lit(WT)}) {`,
    `  let c0 = run * ${u32Lit(k.span)};`,
    `  for (var c = c0; c < min(c0 + ${u32Lit(k.span)}, params.kw); c++) {`,
    ...walkWord(p, { flush, word }).map((l) => `    ${l}`),
    '  }',
    '}',
    '{',
    ...flush.map((l) => `  ${l}`),
    '}',
    ...zeroPointTerm,
    ...ms.map((m) => `partial[lidx * ${u32Lit(M)} + ${u32Lit(m)}] = acc${m};`),
    'workgroupBarrier();',
  ];
  for (let half = TPC / 2; half >= 1; half /= 2) {
    // A row loop with a uniform bound: unrolled per row, the levels cost LLVM seconds at M = 8.
    lines.push(`if (r < ${u32Lit(half)}) {`,
      `  for (var i = 0u; i < params.rows; i++) { partial[lidx * ${u32Lit(M)} + i] += partial[(lidx + ${u32Lit(half)}) * ${u32Lit(M)} + i]; }`,
      '}', 'workgroupBarrier();');
  }
  // One lane per (column, row) finishes: activation scale, bias, epilogue, store.
  lines.push(`if (lidx < ${u32Lit(k.cols * M)}) {`,
    `  let oc = lidx / ${u32Lit(M)};`,
    `  let m = lidx % ${u32Lit(M)};`,
    `  let on = groupIdx * ${u32Lit(k.cols)} + oc;`,
    `  if (on < ${u32Lit(p.N)}) {`,
    `    let y = bitcast<f32>(a[m * ${u32Lit(actRowStride(p))}]) * partial[oc * ${u32Lit(TPC * M)} + m]${p.bias ? ' + bias[on]' : ''};`,
    `    out[m * ${u32Lit(p.N)} + on] = ${applyEpilogue(p.epilogue, 'y', b)};`,
    '  }', '}');
  return lines.join('\n');
}

export const matmulNBitsPopcountGemvTemplate: KernelTemplate<MatmulNBitsProblem, PopcountGemvKnobs> = {
  name: 'matmul-nbits-popcount-gemv',
  knobs: KNOBS,

  valid(p, k, dev) {
    const bad = popcountProblem(p);
    if (bad) return bad;
    if (p.M > POPCOUNT_GEMV_MAX_ROWS) return `popcount gemv serves 1..${POPCOUNT_GEMV_MAX_ROWS} rows, got M=${p.M}`;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if (p.M * packedGroups(p) > SA_TABLE_WORDS) return `a Σqa table of ${p.M} rows x ${packedGroups(p)} groups exceeds ${SA_TABLE_WORDS} words`;
    if ((k.workgroupSize + packedGroups(p)) * p.M * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'partial sums and the Σqa table exceed workgroup storage';
    if (k.cols > 1 && k.cols > p.N) return `cols ${k.cols} exceeds N=${p.N}`;
    if (k.planeSplit > p.bits) return `planeSplit ${k.planeSplit} exceeds the ${p.bits} weight planes`;
    if (k.planeSplit > k.workgroupSize / k.cols) return `planeSplit ${k.planeSplit} exceeds the ${k.workgroupSize / k.cols} lanes per column`;
    if (k.span > 1 && k.span > kWords(p)) return `span ${k.span} exceeds the ${kWords(p)} K words`;
    return epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'], uniforms: uniforms(p, k) });
    return b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: uniforms(p, k) };
  },

  defaults(p, dev) {
    // Measured on lavapipe (1x4096·4096): few lanes per column with long group-aligned spans win
    // (W1A4 5 ms at 8 lanes x span 4 vs 39 ms at 32 lanes x span 1): fewer flushes and barriers.
    // Narrow layers split weight planes across lanes instead (bit-stacking), to keep lanes busy.
    const KW = kWords(p);
    const pow2floor = (v: number): number => 2 ** Math.floor(Math.log2(Math.max(1, v)));
    const perColumn = Math.min(32, Math.max(4, pow2floor(KW / 16)));
    const cols = p.N >= 512 ? 8 : Math.max(1, Math.min(8, pow2floor(p.N / 64)));
    const planeSplit = p.N >= 512 ? 1 : Math.min(4, pow2floor(p.bits));
    const span = Math.min(pow2floor(KW), p.group >= p.K ? 8 : p.group % 32 === 0 ? Math.min(8, p.group / 32) : 4);
    const workgroupSize = Math.min(256, Math.max(32, perColumn * cols * planeSplit));
    for (const k of [
      { workgroupSize, cols, planeSplit, span },
      { workgroupSize, cols: 1, planeSplit: 1, span },
      { workgroupSize: 32, cols: 1, planeSplit: 1, span: 1 },
    ]) {
      if (matmulNBitsPopcountGemvTemplate.valid(p, k, dev) === true) return k;
    }
    return { workgroupSize: 32, cols: 1, planeSplit: 1, span: 1 };
  },
};
