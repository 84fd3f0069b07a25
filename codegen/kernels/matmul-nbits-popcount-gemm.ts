// WxAy bit-plane popcount GEMM (any M, preferred past 8 rows): a workgroup computes a tileM x tileN
// block; per step it stages kWords K words of every activation plane (tileM rows) and weight plane
// (tileN columns) in workgroup memory, and each lane sums popcount(A_i & W_j) << (i+j) for its
// rm x rn outputs exactly in integers, folding them into f32 once per quantization group
// (popcount.ts). Needs 'planes' activations and weights; any group size (unaligned ones are masked).

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { MatmulNBitsProblem } from '../problems.ts';
import { applyEpilogue, epilogueProblem } from '../wgsl/expr.ts';
import { nbitsInputs, nbitsInputTypes, nbitsKey } from '../wgsl/packed.ts';
import { actPlaneWord, actRowStride, flushTerm, groupIndex, kWords, popcountProblem, walkWord, weightPlaneWord } from '../wgsl/popcount.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';

export interface PopcountGemmKnobs {
  readonly [k: string]: number;
  readonly tileM: number;
  readonly tileN: number;
  /** Rows and columns per lane (lanes = (tileM / rm) x (tileN / rn)). */
  readonly rm: number;
  readonly rn: number;
  /** K words staged per step. */
  readonly kWords: number;
}

const KNOBS: KnobSpace<PopcountGemmKnobs> = { tileM: [8, 16, 32, 64], tileN: [16, 32, 64], rm: [1, 2, 4], rn: [1, 2, 4], kWords: [1, 2, 4] };

const lanes = (k: PopcountGemmKnobs): number => (k.tileM / k.rm) * (k.tileN / k.rn);
const tilesN = (p: MatmulNBitsProblem, k: PopcountGemmKnobs): number => ceilDiv(p.N, k.tileN);
const groups = (p: MatmulNBitsProblem, k: PopcountGemmKnobs): number => ceilDiv(p.M, k.tileM) * tilesN(p, k);
const stageWords = (p: MatmulNBitsProblem, k: PopcountGemmKnobs): number => (k.tileM * (p.actBits ?? 0) + k.tileN * p.bits) * k.kWords;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function uniforms(p: MatmulNBitsProblem, k: PopcountGemmKnobs): Uniform[] {
  return [
    { name: 'steps', type: 'u32', value: ceilDiv(kWords(p), k.kWords) },
    { name: 'qa', type: 'u32', value: p.actBits ?? 0 },
    { name: 'bw', type: 'u32', value: p.bits },
  ];
}

function body(b: ShaderBuilder, p: MatmulNBitsProblem, k: PopcountGemmKnobs): string {
  const QA = p.actBits as number;
  const KT = k.kWords;
  const TX = k.tileN / k.rn;
  const TY = k.tileM / k.rm;
  const WG = TX * TY;
  const aStage = k.tileM * QA * KT;
  const wStage = k.tileN * p.bits * KT;
  b.decl(`var<workgroup> as_: array<u32, ${aStage}>;`);
  b.decl(`var<workgroup> ws_: array<u32, ${wStage}>;`);
  const R = range(k.rm);
  const C = range(k.rn);
  const ii = (a: number): string => `(ty + ${u32Lit(TY * a)})`;
  const jj = (c: number): string => `(tx + ${u32Lit(TX * c)})`;
  const flush = [
    ...C.flatMap((c) => [`let gi${c} = ${groupIndex(p, `n${c}`)};`, `let sc${c} = scales[gi${c}];`, `let zc${c} = zeros[gi${c}];`]),
    ...R.flatMap((a) => C.map((c) => flushTerm(`acc${a}_${c}`, `d${a}_${c}`, `sa${a}`, `sw${c}`, `za${a}`, `sc${c}`, `zc${c}`))),
    ...R.flatMap((a) => [`sa${a} = 0u;`, ...C.map((c) => `d${a}_${c} = 0u;`)]),
    ...C.map((c) => `sw${c} = 0u;`),
    'cnt = 0u;',
  ];
  const word = [
    'for (var j = 0u; j < params.bw; j++) {',
    ...C.flatMap((c) => [`  let w${c} = ws_[(${jj(c)} * ${u32Lit(p.bits)} + j) * ${u32Lit(KT)} + cc] & msk;`, `  sw${c} += countOneBits(w${c}) << j;`]),
    '  for (var i = 0u; i < params.qa; i++) {',
    ...R.flatMap((a) => [`    let x${a} = as_[(${ii(a)} * ${u32Lit(QA)} + i) * ${u32Lit(KT)} + cc] & msk;`,
      ...C.map((c) => `    d${a}_${c} += countOneBits(x${a} & w${c}) << (i + j);`)]),
    '  }',
    '}',
    'for (var i = 0u; i < params.qa; i++) {',
    ...R.map((a) => `  sa${a} += countOneBits(as_[(${ii(a)} * ${u32Lit(QA)} + i) * ${u32Lit(KT)} + cc] & msk) << i;`),
    '}',
    'cnt += countOneBits(msk);',
  ];
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let mb = (groupIdx / ${u32Lit(tilesN(p, k))}) * ${u32Lit(k.tileM)};`,
    `let nb = (groupIdx % ${u32Lit(tilesN(p, k))}) * ${u32Lit(k.tileN)};`,
    `let tx = lidx % ${u32Lit(TX)};`,
    `let ty = lidx / ${u32Lit(TX)};`,
    // Rows/columns past the edge compute on the last real one (in bounds) and are never stored.
    ...R.map((a) => `let m${a} = min(mb + ${ii(a)}, ${u32Lit(p.M - 1)});`),
    ...C.map((c) => `let n${c} = min(nb + ${jj(c)}, ${u32Lit(p.N - 1)});`),
    ...R.map((a) => `let za${a} = a[m${a} * ${u32Lit(actRowStride(p))} + 1u];`),
    ...R.flatMap((a) => [`var sa${a} = 0u;`, ...C.flatMap((c) => [`var acc${a}_${c} = 0.0;`, `var d${a}_${c} = 0u;`])]),
    ...C.map((c) => `var sw${c} = 0u;`),
    'var cnt = 0u;',
    'var cur = 0u;',
    'for (var step = 0u; step < params.steps; step++) {',
    `  let cb = step * ${u32Lit(KT)};`,
    // Staging: element e of as_ is (row, plane, word) row-major; words past K stage as 0.
    `  for (var e = lidx; e < ${u32Lit(aStage)}; e += ${u32Lit(WG)}) {`,
    `    let sm = min(mb + e / ${u32Lit(QA * KT)}, ${u32Lit(p.M - 1)});`,
    `    let sc = cb + e % ${u32Lit(KT)};`,
    `    as_[e] = select(0u, ${actPlaneWord(p, 'sm', `(e / ${u32Lit(KT)}) % ${u32Lit(QA)}`, `min(sc, ${u32Lit(kWords(p) - 1)})`)}, sc < ${u32Lit(kWords(p))});`,
    '  }',
    `  for (var e = lidx; e < ${u32Lit(wStage)}; e += ${u32Lit(WG)}) {`,
    `    let sn = min(nb + e / ${u32Lit(p.bits * KT)}, ${u32Lit(p.N - 1)});`,
    `    let sc = cb + e % ${u32Lit(KT)};`,
    `    ws_[e] = select(0u, ${weightPlaneWord(p, 'sn', `(e / ${u32Lit(KT)}) % ${u32Lit(p.bits)}`, `min(sc, ${u32Lit(kWords(p) - 1)})`)}, sc < ${u32Lit(kWords(p))});`,
    '  }',
    '  workgroupBarrier();',
    `  for (var cc = 0u; cc < ${u32Lit(KT)}; cc++) {`,
    '    let c = cb + cc;',
    `    if (c < ${u32Lit(kWords(p))}) {`,
    ...walkWord(p, { flush, word }).map((l) => `      ${l}`),
    '    }',
    '  }',
    '  workgroupBarrier();',
    '}',
    '{',
    ...flush.map((l) => `  ${l}`),
    '}',
  ];
  for (const a of R) {
    lines.push(`if (mb + ${ii(a)} < ${u32Lit(p.M)}) {`, `  let sa = bitcast<f32>(a[m${a} * ${u32Lit(actRowStride(p))}]);`);
    for (const c of C) {
      lines.push(`  if (nb + ${jj(c)} < ${u32Lit(p.N)}) {`,
        `    let y${c} = sa * acc${a}_${c}${p.bias ? ` + bias[n${c}]` : ''};`,
        `    out[m${a} * ${u32Lit(p.N)} + n${c}] = ${applyEpilogue(p.epilogue, `y${c}`, b)};`,
        '  }');
    }
    lines.push('}');
  }
  return lines.join('\n');
}

export const matmulNBitsPopcountGemmTemplate: KernelTemplate<MatmulNBitsProblem, PopcountGemmKnobs> = {
  name: 'matmul-nbits-popcount-gemm',
  knobs: KNOBS,

  valid(p, k, dev) {
    const bad = popcountProblem(p);
    if (bad) return bad;
    if (k.rm > k.tileM || k.rn > k.tileN) return 'a lane block exceeds the tile';
    const wg = lanes(k);
    if (wg > dev.limits.maxComputeInvocationsPerWorkgroup || k.tileN / k.rn > dev.limits.maxComputeWorkgroupSizeX) return `${wg} lanes exceed the device's workgroup limits`;
    if (wg < 16) return `${wg} lanes are too few to stage tiles`;
    if (stageWords(p, k) * 4 > dev.limits.maxComputeWorkgroupStorageSize) return `staged planes (${stageWords(p, k) * 4} bytes) exceed workgroup storage`;
    if (k.tileM > 8 && k.tileM >= 2 * p.M) return `tileM ${k.tileM} is at least twice M=${p.M}`;
    if (k.tileN > 16 && k.tileN >= 2 * p.N) return `tileN ${k.tileN} is at least twice N=${p.N}`;
    if (k.kWords > 1 && k.kWords > kWords(p)) return `kWords ${k.kWords} exceeds the ${kWords(p)} K words`;
    return epilogueProblem(p.epilogue) ?? dispatchProblem(groups(p, k)) ?? true;
  },

  key(p) {
    return nbitsKey(p);
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: nbitsInputs(p), inputTypes: nbitsInputTypes(p), outputs: ['out'], uniforms: uniforms(p, k) });
    return b.build([lanes(k), 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: uniforms(p, k) };
  },

  defaults(p, dev) {
    // Big 4x4 lane blocks when M is large: on lavapipe 64x4096·4096 W4A8 took 2.5 s with 64x64
    // tiles of 4x4 against 5.6 s with 32x32 tiles of 2x2 (more popcounts per staged word).
    const big = p.M >= 48 && p.N >= 48;
    const tileM = p.M >= 24 ? 32 : p.M > 8 ? 16 : 8;
    for (const k of [
      ...(big ? [{ tileM: 64, tileN: 64, rm: 4, rn: 4, kWords: 2 }] : []),
      { tileM, tileN: 32, rm: 2, rn: 2, kWords: 2 },
      { tileM, tileN: 32, rm: 2, rn: 2, kWords: 1 },
      { tileM: 8, tileN: 16, rm: 1, rn: 1, kWords: 1 },
    ]) {
      if (matmulNBitsPopcountGemmTemplate.valid(p, k, dev) === true) return k;
    }
    return { tileM: 8, tileN: 16, rm: 1, rn: 1, kWords: 1 };
  },
};
